// Every option of every `valemb` command, declared once: its kind and the values it accepts. Commands
// name the options they take (with their own defaults); node:util's parseArgs splits the argument
// list and this file turns each raw string into a checked value, so `--threshold ""` or `0x10`
// is an error naming the option instead of the 0 or 16 that Number() would make of it.
import { parseArgs } from "node:util";

export type OptionSpec =
  | { kind: "string"; multiple?: boolean }
  | { kind: "boolean" }
  | { kind: "int"; min?: number; max?: number }
  | { kind: "number"; min?: number; max?: number; above?: number; below?: number }
  | { kind: "choice"; choices: readonly string[] };

export const OPTIONS = {
  // analysis: crossings, rank, ttest, export
  threshold: { kind: "number" },
  runs: { kind: "string" },
  vs: { kind: "string" },
  ref: { kind: "string" },
  from: { kind: "number" },
  to: { kind: "number" },
  last: { kind: "number", above: 0, max: 1 },
  axis: { kind: "choice", choices: ["time", "step"] },
  points: { kind: "int", min: 1 },
  level: { kind: "number", above: 0, below: 1 },
  partial: { kind: "boolean" },
  attempts: { kind: "choice", choices: ["last", "all"] },
  csv: { kind: "string" },
  json: { kind: "boolean" },
  // charts: export
  spec: { kind: "string", multiple: true },
  chart: { kind: "choice", choices: ["loss", "crossing"] },
  group: { kind: "choice", choices: ["run", "variant"] },
  label: { kind: "string", multiple: true },
  title: { kind: "string" },
  name: { kind: "string" },
  width: { kind: "number", above: 0 },
  height: { kind: "number", above: 0 },
  formats: { kind: "string" },
  scale: { kind: "number", above: 0 },
  sample: { kind: "boolean" },
  // training: train, run, doctor
  preset: { kind: "string" },
  layout: { kind: "string" },
  seed: { kind: "int", min: 0 },
  seeds: { kind: "int", min: 1 },
  steps: { kind: "int", min: 1 },
  out: { kind: "string" },
  data: { kind: "string" },
  backend: { kind: "string" },
  threads: { kind: "int", min: 1 },
  jobs: { kind: "int", min: 1 },
  "lr-mult": { kind: "number", above: 0 },
  "eval-every": { kind: "int", min: 1 },
  batch: { kind: "int", min: 1 },
  "val-tokens": { kind: "int", min: 1 },
  "checkpoint-every": { kind: "int", min: 1 },
  "keep-checkpoint": { kind: "boolean" },
  force: { kind: "boolean" },
  "json-progress": { kind: "boolean" },
  variants: { kind: "string" },
  root: { kind: "string" },
  target: { kind: "number" },
  "replace-stale": { kind: "boolean" },
  list: { kind: "boolean" },
  "no-train": { kind: "boolean" },
  // memory and scale: plan, train
  "micro-batch-tokens": { kind: "int", min: 1 },
  "device-memory-gib": { kind: "number", above: 0 },
  activations: { kind: "choice", choices: ["keep", "recompute"] },
  tflops: { kind: "number", above: 0 },
  "seq-len": { kind: "int", min: 1 },
  // run on a Slurm cluster
  slurm: { kind: "boolean" },
  "dry-run": { kind: "boolean" },
  status: { kind: "boolean" },
  cluster: { kind: "string" },
  partition: { kind: "string" },
  "gpus-per-task": { kind: "int", min: 0 },
  "cpus-per-task": { kind: "int", min: 1 },
  time: { kind: "string" },
  "max-parallel": { kind: "int", min: 1 },
  // corpus: data prepare
  source: { kind: "string" },
  vocab: { kind: "int", min: 257, max: 4096 },
  // FineWeb: data fineweb
  "train-shards": { kind: "int", min: 1, max: 103 },
  "base-url": { kind: "string" },
  // notebook
  port: { kind: "int", min: 1, max: 65535 },
  browser: { kind: "boolean" },
  "no-browser": { kind: "boolean" },
  check: { kind: "boolean" },
  classic: { kind: "boolean" },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

type ValueOfSpec<S> = S extends { kind: "string"; multiple: true } ? string[]
  : S extends { kind: "string" } ? string
  : S extends { kind: "boolean" } ? boolean
  : S extends { kind: "int" | "number" } ? number
  : S extends { kind: "choice"; choices: readonly (infer C)[] } ? C
  : never;

export type OptionValue<K extends OptionName> = ValueOfSpec<(typeof OPTIONS)[K]>;

/** What a command says about one of its options: a default, or that it must be given. */
export type OptionUse<K extends OptionName> = { default?: OptionValue<K>; required?: boolean };

export type OptionUses = { [K in OptionName]?: OptionUse<K> };

/** Booleans and options with a default or `required` are always set; the others may be undefined. */
export type ParsedValues<U extends OptionUses> = {
  [K in keyof U & OptionName]: (typeof OPTIONS)[K] extends { kind: "boolean" } | { multiple: true } ? OptionValue<K>
    : U[K] extends { default: unknown } | { required: true } ? OptionValue<K>
    : OptionValue<K> | undefined;
};

/** A mistake in how a command was called; main prints it with the command's name and exits with 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

// Plain decimal notation: no hex/octal/binary prefixes, no Infinity, no empty string.
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const INTEGER = /^[-+]?\d+$/;

/** Turns one raw option string into its value, or throws a UsageError naming the option. */
export function convertOption(name: string, spec: OptionSpec, raw: string): string | number {
  const flag = `--${name}`;
  const shown = JSON.stringify(raw);
  switch (spec.kind) {
    case "string":
      if (raw === "") throw new UsageError(`${flag}: empty value`);
      return raw;
    case "choice":
      if (!spec.choices.includes(raw)) throw new UsageError(`${flag}: expected ${spec.choices.join(" or ")}, got ${shown}`);
      return raw;
    case "int": {
      if (!INTEGER.test(raw)) throw new UsageError(`${flag}: expected a whole number in decimal digits, got ${shown}`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw new UsageError(`${flag}: ${raw} is too large`);
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`${flag}: must be ≥ ${spec.min}, got ${raw}`);
      if (spec.max !== undefined && n > spec.max) throw new UsageError(`${flag}: must be ≤ ${spec.max}, got ${raw}`);
      return n;
    }
    case "number": {
      if (!DECIMAL.test(raw)) throw new UsageError(`${flag}: expected a decimal number, got ${shown}`);
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`${flag}: ${raw} is out of range`);
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`${flag}: must be ≥ ${spec.min}, got ${raw}`);
      if (spec.max !== undefined && n > spec.max) throw new UsageError(`${flag}: must be ≤ ${spec.max}, got ${raw}`);
      if (spec.above !== undefined && !(n > spec.above)) throw new UsageError(`${flag}: must be > ${spec.above}, got ${raw}`);
      if (spec.below !== undefined && !(n < spec.below)) throw new UsageError(`${flag}: must be < ${spec.below}, got ${raw}`);
      return n;
    }
    case "boolean":
      throw new UsageError(`${flag}: takes no value`);
  }
}

/**
 * Parses a command's arguments against the shared table: `uses` names the options the command takes
 * (each with an optional default or `required`). Unknown options, missing or malformed values and
 * unexpected positionals are UsageErrors.
 */
export function parseOptions<U extends OptionUses>(
  argv: string[], uses: U, opts: { positionals?: boolean } = {},
): { values: ParsedValues<U>; positionals: string[] } {
  const names = Object.keys(uses) as OptionName[];
  const config: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = {};
  for (const name of names) {
    const spec: OptionSpec = OPTIONS[name];
    if (!spec) throw new Error(`option --${name} is not declared in src/cli/options.ts`);
    config[name] = spec.kind === "boolean" ? { type: "boolean" } : { type: "string", multiple: spec.kind === "string" && spec.multiple === true };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, allowPositionals: opts.positionals ?? false, strict: true });
  } catch (e) {
    // parseArgs' own messages already name the option (unknown option, missing value, stray argument).
    throw new UsageError((e as Error).message);
  }
  const values: Record<string, unknown> = {};
  for (const name of names) {
    const spec: OptionSpec = OPTIONS[name];
    const use = (uses as Record<string, OptionUse<OptionName>>)[name] ?? {};
    const raw = parsed.values[name];
    if (raw === undefined) {
      if (use.required) throw new UsageError(`--${name} is required`);
      values[name] = use.default ?? (spec.kind === "boolean" ? false : spec.kind === "string" && spec.multiple ? [] : undefined);
    } else if (typeof raw === "boolean") {
      values[name] = raw;
    } else if (Array.isArray(raw)) {
      values[name] = raw.map((r) => convertOption(name, spec, String(r)));
    } else {
      values[name] = convertOption(name, spec, raw);
    }
  }
  return { values: values as ParsedValues<U>, positionals: parsed.positionals };
}
