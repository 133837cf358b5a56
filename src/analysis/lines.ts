// Lines of a file read as a stream: a fixed buffer, never the whole file, so memory stays flat in
// the file's size. Lines longer than a cap keep only their start (a log line that matters is short).
import * as fs from "node:fs";
import { StringDecoder } from "node:string_decoder";

export interface SourceLine {
  /** The line without its `\n` / `\r\n`; cut to `maxLineChars`. */
  text: string;
  /** 1-based. */
  line: number;
  /** True when the line was longer than the cap and `text` is only its start. */
  cut: boolean;
  /** True for a last line that has no newline: the file may have been cut off mid-line. */
  unterminated: boolean;
}

export interface LineOptions {
  chunkBytes?: number;
  maxLineChars?: number;
}

const DEFAULT_CHUNK = 1 << 16;
const DEFAULT_MAX_LINE = 64 * 1024;

/** Splits a stream of decoded text pieces into lines; shared by files and in-memory text. */
function* splitPieces(pieces: Iterable<string>, maxLineChars: number): Generator<SourceLine> {
  let carry = "";
  let cut = false;
  let line = 0;
  const add = (piece: string) => {
    if (cut || piece === "") return;
    if (carry.length + piece.length > maxLineChars) {
      carry = (carry + piece).slice(0, maxLineChars);
      cut = true;
    } else carry += piece;
  };
  const take = (unterminated: boolean): SourceLine => {
    line++;
    let text = carry.endsWith("\r") ? carry.slice(0, -1) : carry;
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1); // byte-order mark
    const out = { text, line, cut, unterminated };
    carry = "";
    cut = false;
    return out;
  };
  for (const piece of pieces) {
    let start = 0;
    for (let nl = piece.indexOf("\n"); nl !== -1; nl = piece.indexOf("\n", start)) {
      add(piece.slice(start, nl));
      yield take(false);
      start = nl + 1;
    }
    add(piece.slice(start));
  }
  if (carry !== "" || cut) yield take(true);
}

function* filePieces(file: string, chunkBytes: number): Generator<string> {
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    const decoder = new StringDecoder("utf8");
    for (let n = fs.readSync(fd, buf, 0, chunkBytes, null); n > 0; n = fs.readSync(fd, buf, 0, chunkBytes, null)) {
      yield decoder.write(buf.subarray(0, n));
    }
    yield decoder.end();
  } finally {
    fs.closeSync(fd);
  }
}

/** The lines of a file, read `chunkBytes` at a time. */
export function fileLines(file: string, opts: LineOptions = {}): Generator<SourceLine> {
  return splitPieces(filePieces(file, opts.chunkBytes ?? DEFAULT_CHUNK), opts.maxLineChars ?? DEFAULT_MAX_LINE);
}

/** The lines of a string, with the same rules as a file. */
export function textLines(text: string, opts: LineOptions = {}): Generator<SourceLine> {
  return splitPieces([text], opts.maxLineChars ?? DEFAULT_MAX_LINE);
}
