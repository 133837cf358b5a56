// `valemb data prepare`: builds a corpus folder (shards + BPE) from Debian's fortunes or any text.
import type { Command } from "../main";
import { parseOptions } from "../options";

const usage = `usage: valemb data prepare [--source <dir|file>] [--out data/fortunes] [--vocab 2048]

Builds <out>/{train.bin,val.bin,tokenizer.json,meta.json}: documents (fortune files split on lines
holding only %, other text on blank lines), 95/5 train/val by contiguous blocks, a byte-level BPE
learned on the train split (end-of-text = last id, before every document). Deterministic.

  --source  folder (fortune files without a dot, and *.txt) or one file; default /usr/share/games/fortunes
  --out     output folder (default data/fortunes)
  --vocab   BPE vocabulary size incl. end-of-text, 257..4096 (default 2048)`;

export const command: Command = {
  summary: "prepare a corpus: documents → BPE tokenizer → train/val shards",
  usage,
  async run(argv: string[]): Promise<number> {
    const [sub, ...rest] = argv;
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
