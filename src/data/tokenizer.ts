// What the data pipeline needs from a tokenizer, and GPT-2's (for the `medium` preset and FineWeb).
import type { Tiktoken } from "js-tiktoken";

export interface Tokenizer {
  readonly name: string;
  /** Number of ids, end-of-text included. */
  readonly vocabSize: number;
  /** Marks document starts; the model masks attention across it. */
  readonly eotToken: number;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
}

/** modded-nanogpt's layout: every document is preceded by end-of-text. */
export function encodeDocument(tok: Tokenizer, text: string): number[] {
  return [tok.eotToken, ...tok.encode(text)];
}

export const GPT2_EOT = 50256;

/** GPT-2 BPE through js-tiktoken (ranks ship inside the package; nothing is fetched). */
export class Gpt2Tokenizer implements Tokenizer {
  readonly name = "gpt2";
  readonly vocabSize = 50257;
  readonly eotToken = GPT2_EOT;
  private readonly enc: Tiktoken;

  constructor() {
    // Loaded on first use: the ranks are ~0.5 MB of JS the tiny preset never needs.
    const { getEncoding } = require("js-tiktoken") as typeof import("js-tiktoken");
    this.enc = getEncoding("gpt2");
  }

  /** Ordinary text: "<|endoftext|>" inside the text is encoded as plain characters, as encode_ordinary does. */
  encode(text: string): number[] {
    return this.enc.encode(text, [], []);
  }

  decode(ids: ArrayLike<number>): string {
    return this.enc.decode(Array.from(ids).filter((id) => id !== GPT2_EOT));
  }
}
