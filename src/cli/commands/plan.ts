// `valemb plan`: the memory and time a preset's training step needs on a device, and the largest
// micro-batch that fits (src/train/plan.ts).
import type { Command } from "../command";
import { parseOptions, UsageError } from "../options";

export const DEFAULT_DEVICE_GIB = 80;
export const DEFAULT_TFLOPS = 100;

const usage = `usage: valemb plan --preset <name> [--micro-batch-tokens N] [--device-memory-gib ${DEFAULT_DEVICE_GIB}]
                   [--tflops ${DEFAULT_TFLOPS}] [--seq-len N] [--batch N] [--activations keep|recompute] [--data DIR] [--json]

Plans one optimizer step of a training preset: parameters, gradients, optimizer state and the
activations of one micro-batch (what TensorFlow.js keeps for the backward pass, or with recomputation
the block outputs and one block's working set), the peak, the largest micro-batch that fits the
device (when --micro-batch-tokens is not given), the step's FLOPs and its time at an assumed throughput.

  --preset              a training preset (medium, tiny, smoke, …)
  --micro-batch-tokens  tokens per micro-batch (whole sequences dividing the step); default: the largest that fits
  --device-memory-gib   device memory (default ${DEFAULT_DEVICE_GIB}: one current datacenter GPU)
  --tflops              assumed sustained TFLOP/s (default ${DEFAULT_TFLOPS}: an assumption for fp32/TF32 on an H100-class GPU)
  --seq-len, --batch    override the preset's sequence length and sequences per step
  --activations         keep (one autograd pass) or recompute (block by block, head in row chunks);
                        default: keep when some micro-batch fits so, else recompute
  --data                the dataset \`valemb train --data\` would read: its tokenizer sets the vocabulary
                        (embedding and head rows), as in training; default: the preset model's vocabulary
  --json                one JSON object`;

export const command: Command = {
  summary: "memory and time of a preset's training step on a device; the micro-batch that fits",
  usage,
  async run(argv) {
    const { values } = parseOptions(argv, {
      preset: { required: true }, "micro-batch-tokens": {}, "device-memory-gib": { default: DEFAULT_DEVICE_GIB },
      tflops: { default: DEFAULT_TFLOPS }, "seq-len": {}, batch: {}, activations: {}, data: {}, json: {},
    });
    const { TRAIN_PRESETS, planTraining } = require("../../train") as typeof import("../../train");
    const { modelConfig } = require("../../model") as typeof import("../../model");
    const preset = TRAIN_PRESETS[values.preset as keyof typeof TRAIN_PRESETS];
    if (!preset) throw new UsageError(`--preset: unknown preset "${values.preset}" (known: ${Object.keys(TRAIN_PRESETS).join(", ")})`);
    const { openDataset } = require("../../data") as typeof import("../../data");
    const data = values.data === undefined ? null : openDataset(values.data); // the vocabulary training would use
    const config = modelConfig(preset.model, {
      ...(data ? { vocabSize: data.vocabSize, eotToken: data.eotToken } : {}),
      ...(values["seq-len"] !== undefined ? { seqLen: values["seq-len"] } : {}),
    });
    let plan;
    try {
      plan = planTraining({
        config, batchSize: values.batch ?? preset.batchSize, microBatchTokens: values["micro-batch-tokens"],
        deviceMemoryBytes: values["device-memory-gib"] * 1024 ** 3, tflops: values.tflops,
        activations: values.activations as "keep" | "recompute" | undefined,
      });
    } catch (e) {
      throw new UsageError(`--micro-batch-tokens: ${(e as Error).message}`);
    }
    const out = { preset: values.preset, seqLen: config.seqLen, vocabSize: config.vocabSize, ...plan };
    if (values.json) {
      process.stdout.write(JSON.stringify(out) + "\n");
    } else {
      const gib = (b: number) => `${(b / 1024 ** 3).toFixed(2)} GiB`;
      process.stdout.write([
        `preset              ${values.preset} (${config.nLayer} blocks × ${config.dim}, seq ${config.seqLen}, ${plan.tokensPerStep} tokens/step, ` +
          `vocabulary ${config.vocabSize.toLocaleString("en-US")}${data ? ` from ${values.data}` : ""})`,
        `parameters          ${plan.params.toLocaleString("en-US")} (${gib(plan.paramBytes)}; gradients ${gib(plan.gradientBytes)}, optimizer ${gib(plan.optimizerBytes)})`,
        `micro-batch         ${plan.microBatchTokens} tokens × ${plan.accumulationSteps} accumulation steps`,
        `activations         ${gib(plan.activationBytesPerMicroBatch)} per micro-batch, ${plan.activations === "keep" ? "all kept for the backward" : "recomputed block by block"}`,
        `peak                ${gib(plan.peakBytes)} of ${gib(plan.deviceMemoryBytes)}: ${plan.fits ? "fits" : "does NOT fit"}` +
          (plan.largestFittingMicroBatchTokens === null ? " (not even one sequence fits)" : ` (largest micro-batch that fits: ${plan.largestFittingMicroBatchTokens} tokens)`),
        `FLOPs per step      ${plan.flopsPerStep.toExponential(3)}`,
        `step time           ${plan.estimatedStepSeconds.toFixed(3)} s at ${plan.tflops} TFLOP/s`,
      ].join("\n") + "\n");
    }
    return plan.fits ? 0 : 1;
  },
};
