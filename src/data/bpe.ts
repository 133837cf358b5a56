// A compact byte-level BPE (GPT-2 style, ≤ 4096 ids) trained on the corpus itself.
// Ids: 0..255 are bytes, 256.. are merges in training order, the last id is end-of-text.
import * as fs from "node:fs";
import { sha256, writeFileAtomic } from "./files";
import type { Tokenizer } from "./tokenizer";

export const MAX_BPE_VOCAB = 4096;

// GPT-2's pre-tokenizer with ASCII classes, applied to a latin1 view of the UTF-8 bytes (one char
// per byte), so splitting never loses a byte. Whitespace is ASCII only: 0x85/0xA0 are UTF-8 bytes.
const PRETOKEN_SOURCE =
  "'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\\t\\n\\v\\f\\r A-Za-z0-9]+|[\\t\\n\\v\\f\\r ]+(?![^\\t\\n\\v\\f\\r ])|[\\t\\n\\v\\f\\r ]+";

/** Splits text (as UTF-8 bytes) into pre-tokens, each a byte string in latin1 form. Lossless. */
export function pretokenize(bytes: Uint8Array): string[] {
  const s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  return s.match(new RegExp(PRETOKEN_SOURCE, "g")) ?? [];
}

const pairKey = (a: number, b: number) => a * MAX_BPE_VOCAB + b;

export interface BpeJson {
  type: "byte-bpe";
  version: 1;
  vocabSize: number;
  eotToken: number;
  pretokenizer: string;
  /** merges[i] = [a, b] makes id 256 + i. */
  merges: [number, number][];
}

export class BpeTokenizer implements Tokenizer {
  readonly name = "byte-bpe";
  readonly vocabSize: number;
  readonly eotToken: number;
  private readonly ranks = new Map<number, number>(); // pair key → merged id
  private readonly pieces: Uint8Array[]; // id → bytes
  private readonly cache = new Map<string, number[]>();

  constructor(readonly merges: ReadonlyArray<readonly [number, number]>) {
    if (256 + merges.length + 1 > MAX_BPE_VOCAB) {
      throw new Error(`BPE: ${merges.length} merges give more than ${MAX_BPE_VOCAB} ids`);
    }
    this.pieces = Array.from({ length: 256 }, (_, i) => Uint8Array.of(i));
    merges.forEach(([a, b], i) => {
      const id = 256 + i;
      if (!(a < id && b < id && a >= 0 && b >= 0)) throw new Error(`BPE: merge ${i} [${a}, ${b}] refers to an id not yet defined`);
      this.ranks.set(pairKey(a, b), id);
      this.pieces.push(Buffer.concat([this.pieces[a], this.pieces[b]]));
    });
    this.eotToken = 256 + merges.length;
    this.vocabSize = this.eotToken + 1;
  }

  /** Token ids of a text (no end-of-text; documents get it from encodeDocument). */
  encode(text: string): number[] {
    return this.encodeBytes(Buffer.from(text, "utf8"));
  }

  /** Token ids of raw bytes (any bytes, valid UTF-8 or not). */
  encodeBytes(bytes: Uint8Array): number[] {
    const out: number[] = [];
    for (const word of pretokenize(bytes)) {
      let ids = this.cache.get(word);
      if (!ids) {
        ids = this.mergeWord(word);
        this.cache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
    return out;
  }

  /** Applies merges in rank order, lowest first, as GPT-2 does. */
  private mergeWord(word: string): number[] {
    let ids = Array.from(word, (c) => c.charCodeAt(0));
    for (;;) {
      let best = -1;
      for (let k = 0; k + 1 < ids.length; k++) {
        const id = this.ranks.get(pairKey(ids[k], ids[k + 1]));
        if (id !== undefined && (best < 0 || id < best)) best = id;
      }
      if (best < 0) return ids;
      const [a, b] = this.merges[best - 256];
      const next: number[] = [];
      for (let k = 0; k < ids.length; k++) {
        if (k + 1 < ids.length && ids[k] === a && ids[k + 1] === b) { next.push(best); k++; }
        else next.push(ids[k]);
      }
      ids = next;
    }
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id === this.eotToken) continue;
      const piece = this.pieces[id];
      if (!piece) throw new Error(`BPE: token id ${id} out of range 0..${this.vocabSize - 1}`);
      parts.push(piece);
    }
    return Buffer.concat(parts);
  }

  /** Text of the ids; end-of-text tokens are dropped. */
  decode(ids: ArrayLike<number>): string {
    return Buffer.from(this.decodeBytes(ids)).toString("utf8");
  }

  toJSON(): BpeJson {
    return {
      type: "byte-bpe",
      version: 1,
      vocabSize: this.vocabSize,
      eotToken: this.eotToken,
      pretokenizer: PRETOKEN_SOURCE,
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }

  /** JSON text with one merge per line: stable bytes, readable diffs. */
  serialize(): string {
    const j = this.toJSON();
    const head = JSON.stringify({ ...j, merges: undefined }, null, 2).replace(/\n}$/, "");
    const merges = j.merges.map((m) => `    [${m[0]}, ${m[1]}]`).join(",\n");
    return `${head},\n  "merges": [\n${merges}\n  ]\n}\n`;
  }

  save(file: string): void {
    writeFileAtomic(file, this.serialize());
  }

  get hash(): string {
    return sha256(this.serialize());
  }

  static fromJSON(j: unknown, where = "<tokenizer>"): BpeTokenizer {
    const o = j as Partial<BpeJson>;
    if (!o || o.type !== "byte-bpe") throw new Error(`${where}: not a byte-bpe tokenizer (type ${JSON.stringify(o?.type)})`);
    if (o.version !== 1) throw new Error(`${where}: unsupported tokenizer version ${JSON.stringify(o.version)}`);
    if (o.pretokenizer !== PRETOKEN_SOURCE) throw new Error(`${where}: pre-tokenizer differs from this code's; re-run \`valemb data prepare\``);
    if (!Array.isArray(o.merges)) throw new Error(`${where}: field "merges" missing`);
    const tok = new BpeTokenizer(o.merges as [number, number][]);
    if (o.vocabSize !== tok.vocabSize || o.eotToken !== tok.eotToken) {
      throw new Error(`${where}: vocabSize/eotToken (${o.vocabSize}/${o.eotToken}) disagree with ${o.merges.length} merges`);
    }
    return tok;
  }

  static load(file: string): BpeTokenizer {
    let j: unknown;
    try {
      j = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
      throw new Error(`${file}: cannot read tokenizer (${(err as Error).message})`);
    }
    return BpeTokenizer.fromJSON(j, file);
  }
}

/**
 * Learns merges until `vocabSize` ids (256 bytes + merges + 1 end-of-text) or until no pair occurs
 * twice. Deterministic: the most frequent pair wins, ties go to the smallest (a, b).
 * `documents` are UTF-8 texts; pre-tokens never span two documents.
 */
export function trainBpe(documents: Iterable<Uint8Array>, vocabSize: number): BpeTokenizer {
  if (!Number.isInteger(vocabSize) || vocabSize < 257 || vocabSize > MAX_BPE_VOCAB) {
    throw new Error(`BPE vocabulary size must be an integer in 257..${MAX_BPE_VOCAB}, got ${vocabSize}`);
  }
  const wordCounts = new Map<string, number>();
  for (const doc of documents) {
    for (const w of pretokenize(doc)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  }
  // Sorted words: the result must not depend on Map insertion order anywhere.
  const sorted = [...wordCounts.keys()].sort();
  const words = sorted.map((w) => Array.from(w, (c) => c.charCodeAt(0)));
  const freqs = sorted.map((w) => wordCounts.get(w)!);

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>(); // which words contain the pair
  const addPairs = (wi: number, sign: 1 | -1) => {
    const w = words[wi];
    for (let k = 0; k + 1 < w.length; k++) {
      const key = pairKey(w[k], w[k + 1]);
      const count = (pairCounts.get(key) ?? 0) + sign * freqs[wi];
      if (count > 0) pairCounts.set(key, count);
      else pairCounts.delete(key); // keeps the max scan short
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(wi);
      }
    }
  };
  words.forEach((_, wi) => addPairs(wi, 1));

  const merges: [number, number][] = [];
  for (let id = 256; id < vocabSize - 1; id++) {
    let bestKey = -1;
    let bestCount = 1; // a pair seen only once is not worth an id
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && bestKey >= 0 && key < bestKey)) {
        bestKey = key;
        bestCount = count;
      }
    }
    if (bestKey < 0) break;
    const a = Math.floor(bestKey / MAX_BPE_VOCAB);
    const b = bestKey % MAX_BPE_VOCAB;
    merges.push([a, b]);
    for (const wi of [...pairWords.get(bestKey)!].sort((x, y) => x - y)) {
      addPairs(wi, -1);
      const w = words[wi];
      const merged: number[] = [];
      for (let k = 0; k < w.length; k++) {
        if (k + 1 < w.length && w[k] === a && w[k + 1] === b) { merged.push(id); k++; }
        else merged.push(w[k]);
      }
      words[wi] = merged;
      addPairs(wi, 1);
    }
    pairCounts.delete(bestKey);
    pairWords.delete(bestKey);
  }
  return new BpeTokenizer(merges);
}
