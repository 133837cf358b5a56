// `valemb data prepare`: builds a corpus folder (shards + BPE) from Debian's fortunes or any text.
import type { Command } from "../command";
import { parseOptions } from "../options";

const usage = `usage: valemb data prepare [--source <dir|file>] [--out data/fortunes] [--vocab 2048]
       valemb data fineweb [--train-shards 32] [--out data/fineweb]

Builds <out>/{train.bin,val.bin,tokenizer.json,meta.json}: documents (fortune files split on lines
holding only %, other text on blank lines), 95/5 train/val by contiguous blocks, a byte-level BPE
learned on the train split (end-of-text = last id, before every document). Deterministic.

  --source  folder (fortune files without a dot, and *.txt) or one file; default /usr/share/games/fortunes
  --out     output folder (default data/fortunes)
  --vocab   BPE vocabulary size incl. end-of-text, 257..4096 (default 2048)

fineweb: downloads the GPT-2-tokenized FineWeb-10B shards that modded-nanogpt's
data/cached_fineweb10B.py fetches (Hugging Face dataset kjj0/fineweb10B-gpt2): fineweb_val_000000.bin
and fineweb_train_000001.bin … (100 M tokens, 200 MB each). Resumable: rerun after an interruption;
each file is checked (magic 20240520, version, token count against its size) before it gets its name.
  --train-shards  train shards 1..103 (default 32: what the medium preset's 5960 steps read)
  --out           output folder (default data/fineweb), usable as \`valemb train --data\`
  --base-url      another server with the same file names (mirrors, tests)`;

export const command: Command = {
  summary: "prepare a corpus: documents → BPE tokenizer → train/val shards",
  usage,
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
    if (sub === "fineweb") return fineweb(rest);
    if (sub !== "prepare") {
      process.stderr.write(`valemb data: unknown subcommand ${JSON.stringify(sub ?? "")}\n\n${usage}\n`);
      return 2;
    }
    const { values } = parseOptions(rest, { source: {}, out: { default: "data/fortunes" }, vocab: { default: 2048 } });
    const vocabSize = values.vocab;
    const { prepareCorpus } = require("../../data") as typeof import("../../data");
    const meta = prepareCorpus({ source: values.source, out: values.out, vocabSize, log: (m) => process.stderr.write(`${m}\n`) });
    process.stdout.write(
      `${values.out}: train ${meta.train.tokens} tokens (${meta.train.documents} documents), val ${meta.val.tokens} tokens (${meta.val.documents} documents), vocab ${meta.tokenizer.vocabSize}, end-of-text ${meta.tokenizer.eotToken}\n`,
    );
    return 0;
  },
};

/** A progress bar per file on a terminal (cli-progress), a line per file elsewhere. */
async function fineweb(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { "train-shards": {}, out: { default: "data/fineweb" }, "base-url": {} });
  const data = require("../../data") as typeof import("../../data");
  const { SingleBar, Presets } = require("cli-progress") as typeof import("cli-progress");
  const tty = process.stderr.isTTY === true;
  let bar: InstanceType<typeof SingleBar> | null = null;
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const results = await data.downloadFineweb({
    out: values.out, trainShards: values["train-shards"] ?? data.FINEWEB_DEFAULT_TRAIN_SHARDS, baseUrl: values["base-url"],
    onProgress: (p) => {
      if (p.event === "start" && tty) {
        bar?.stop();
        bar = new SingleBar({ format: `${p.file} [{bar}] {percentage}% {value}/{total} MB | ETA {eta_formatted}`, stream: process.stderr }, Presets.shades_classic);
        bar.start(Number(mb(p.total ?? 0)), Number(mb(p.received)));
      } else if (p.event === "data" && bar) {
        bar.update(Number(mb(p.received)));
      } else if (p.event === "retry") {
        bar?.stop();
        bar = null;
        process.stderr.write(`${p.file}: ${p.reason}; resuming at byte ${p.received}\n`);
      } else if (p.event === "done" || p.event === "present") {
        bar?.stop();
        bar = null;
        process.stderr.write(`${p.file}: ${p.event === "done" ? "downloaded" : "already here"}, ${mb(p.received)} MB, checked\n`);
      }
    },
  }).finally(() => (bar as InstanceType<typeof SingleBar> | null)?.stop());
  const tokens = results.reduce((n, r) => n + r.tokens, 0);
  process.stdout.write(`${values.out}: ${results.length} shards (${results.filter((r) => r.status === "downloaded").length} downloaded), ${tokens.toLocaleString("en-US")} tokens\n`);
  return 0;
}
