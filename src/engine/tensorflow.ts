// The native TensorFlow backend (tfjs-node / tfjs-node-gpu): its process environment, which must be
// set before libtensorflow loads, what it runs on, and the kernels the engine adds to it.
import { execFileSync } from "node:child_process";
import * as tf from "@tensorflow/tfjs";

/** The parts of tfjs-node's NodeJSKernelBackend used here (tfjs-node 4.22.0). */
interface NodeBackend {
  isUsingGpuDevice?: boolean;
  binding: {
    TF_Version: string; TF_ATTR_TYPE: number; TF_FLOAT: number; TF_INT32: number; TF_BOOL: number;
    createTensor(shape: number[], dtype: number, values: Int32Array): number;
    executeOp(name: string, attrs: object[], inputIds: number[], numOutputs: number): object[];
  };
  executeMultipleOutputs(name: string, attrs: object[], inputs: object[], numOutputs: number): object[];
  getInputTensorIds(inputs: object[]): number[];
  createOutputTensor(metadata: object): tf.TensorInfo;
}

/** Threads libtensorflow was started with in this process (null until it loads). */
let loadedThreads: number | null = null;

/**
 * Environment for libtensorflow, read once when it loads: `threads` intra-op threads and one inter-op
 * thread (tfjs runs one op at a time, and more inter-op threads only oversubscribe the cores), no
 * INFO/WARNING lines on stderr (they would break `--json-progress`), and no oneDNN kernels (their
 * choice depends on the machine, which would make results machine-dependent).
 */
export function tensorflowEnv(threads: number): Record<string, string> {
  return {
    TF_NUM_INTRAOP_THREADS: String(threads),
    TF_NUM_INTEROP_THREADS: "1",
    TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL || "2",
    TF_ENABLE_ONEDNN_OPTS: process.env.TF_ENABLE_ONEDNN_OPTS || "0",
  };
}

/** Sets tensorflowEnv(threads) before the first load; later calls only report the threads it loaded with. */
export function prepareTensorflowEnv(threads: number): number {
  if (loadedThreads === null) {
    Object.assign(process.env, tensorflowEnv(threads));
    loadedThreads = threads;
  }
  return loadedThreads;
}

function nodeBackend(): NodeBackend {
  return tf.findBackend("tensorflow") as unknown as NodeBackend;
}

/** The first NVIDIA GPU's name from nvidia-smi ("GPU" when it cannot say). */
function gpuName(): string {
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=name", "--format=csv,noheader"], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] });
    return out.trim().split("\n")[0].trim() || "GPU";
  } catch {
    return "GPU";
  }
}

/** Each GPU's total memory in MiB from `nvidia-smi --query-gpu=memory.total --format=csv,noheader,nounits` output. */
export function parseGpuMemoryMiB(out: string): number[] {
  return out.split("\n").map((l) => l.trim()).filter((l) => l !== "").map((l, i) => {
    const mib = Number(l);
    if (!Number.isFinite(mib) || mib <= 0) throw new Error(`nvidia-smi: GPU ${i}'s memory.total is not a number of MiB: '${l}'`);
    return mib;
  });
}

/** The first NVIDIA GPU's total memory in MiB (what tfjs-node-gpu computes on), or null when nvidia-smi cannot say. */
export function cudaMemoryMiB(): number | null {
  let out: string;
  try {
    out = execFileSync("nvidia-smi", ["--query-gpu=memory.total", "--format=csv,noheader,nounits"], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "ignore"] });
  } catch {
    return null;
  }
  return parseGpuMemoryMiB(out)[0] ?? null;
}

/** What the running tensorflow backend computes on ("cpu" or "cuda:<GPU name>") and its library version. */
export function tensorflowDevice(): { device: string; library: string } {
  const b = nodeBackend();
  return { device: b.isUsingGpuDevice ? `cuda:${gpuName()}` : "cpu", library: `libtensorflow ${b.binding.TF_Version}` };
}

/** Kernel name of TensorFlow's fused sparse softmax cross-entropy, registered on the tensorflow backend. */
export const SPARSE_XENT = "ValembSparseSoftmaxCrossEntropy";

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** Replaces a kernel of the tensorflow backend, keeping the stock one to fall back on. */
function replaceKernel(kernelName: string, make: (stock: tf.KernelFunc) => (args: KernelArgs) => tf.TensorInfo): void {
  const stock = tf.getKernel(kernelName, "tensorflow");
  if (!stock) throw new Error(`tfjs-node has no '${kernelName}' kernel (is it 4.22.0?)`);
  tf.unregisterKernel(kernelName, "tensorflow");
  tf.registerKernel({ ...stock, kernelFunc: make(stock.kernelFunc) as unknown as tf.KernelFunc });
}

/**
 * Reshape with its target shape as a TensorFlow tensor made once per shape: the stock kernel makes,
 * uploads and frees a shape tensor on every call (a training step of tiny reshapes ~670 times).
 */
function cachedShapeReshape(stock: tf.KernelFunc): (args: KernelArgs) => tf.TensorInfo {
  const shapeIds = new Map<string, number>();
  return (args) => {
    const b = args.backend as NodeBackend, x = args.inputs.x!, shape = args.attrs!.shape as number[];
    const type = x.dtype === "float32" ? b.binding.TF_FLOAT : x.dtype === "int32" ? b.binding.TF_INT32 : x.dtype === "bool" ? b.binding.TF_BOOL : null;
    if (type === null) return stock(args as never) as tf.TensorInfo;
    const key = shape.join(",");
    let shapeId = shapeIds.get(key);
    if (shapeId === undefined) {
      shapeId = b.binding.createTensor([shape.length], b.binding.TF_INT32, Int32Array.from(shape));
      shapeIds.set(key, shapeId);
    }
    const attrs = [{ name: "T", type: b.binding.TF_ATTR_TYPE, value: type }, { name: "Tshape", type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_INT32 }];
    const [out] = b.binding.executeOp("Reshape", attrs, [...b.getInputTensorIds([x]), shapeId], 1);
    return b.createOutputTensor(out);
  };
}

const installed: string[] = [];

/**
 * Adds TensorFlow's SparseSoftmaxCrossEntropyWithLogits (per-row loss and softmax − onehot in one
 * kernel, no one-hot tensor) as a tfjs kernel, and replaces Reshape with a cheaper kernel of
 * identical results. Idempotent; returns the names.
 */
export function installTensorflowKernels(): string[] {
  if (installed.length) return installed;
  tf.registerKernel({
    kernelName: SPARSE_XENT,
    backendName: "tensorflow",
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as unknown as NodeBackend;
      const attrs = [
        { name: "T", type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT },
        { name: "Tlabels", type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_INT32 },
      ];
      return b.executeMultipleOutputs("SparseSoftmaxCrossEntropyWithLogits", attrs, [inputs.logits!, inputs.labels!], 2) as unknown as tf.TensorInfo[];
    },
  });
  replaceKernel("Reshape", cachedShapeReshape);
  installed.push(SPARSE_XENT, "Reshape (cached shape tensors)");
  return installed;
}
