// Kernels that make tfjs-backend-wasm 4.22.0 fit for training. They run on the wasm heap through
// the backend's own (unexported) internals, hence the version pin in version.ts.
//  - BatchMatMul: the stock kernel uses XNNPACK only for one matrix with no transposes; every
//    attention matmul and every matmul of a backward pass fell to a scalar loop (2-3 GFLOP/s).
//  - UnsortedSegmentSum: missing in wasm, and it is the gradient of tf.gather (embeddings).
//  - Transpose (last two axes), Identity, same-dtype Cast, 2-D GatherV2, SplitV: cheaper in JS than
//    the stock kernels (no copies, contiguous writes; the stock SplitV slices element by element).
//  - Any other kernel wasm lacks but cpu has: run on the cpu backend on copies (slow, but works).
import * as tf from "@tensorflow/tfjs";

type DataId = object;
interface TensorInfo { dataId: DataId; shape: number[]; dtype: tf.DataType }
type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The parts of BackendWasm (tfjs-backend-wasm 4.22.0) these kernels use. */
interface WasmBackend {
  wasm: {
    cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
    tfjs: { registerTensor(id: number, size: number, offset: number): void; disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: DataId): { id: number; memoryOffset: number } };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): HeapArray;
  disposeData(dataId: DataId): boolean;
  incRef(dataId: DataId): void;
  readSync(dataId: DataId): tf.backend_util.BackendValues;
}
interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  attrs: Record<string, unknown>;
  backend: WasmBackend;
}
type KernelFunc = (args: KernelArgs) => TensorInfo | TensorInfo[];

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

function replaceKernel(kernelName: string, kernelFunc: KernelFunc): void {
  const stock = tf.getKernel(kernelName, "wasm");
  if (stock) tf.unregisterKernel(kernelName, "wasm");
  tf.registerKernel({
    kernelName,
    backendName: "wasm",
    setupFunc: stock?.setupFunc,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  });
}

function stockKernel(kernelName: string): KernelFunc {
  const config = tf.getKernel(kernelName, "wasm");
  if (!config) throw new Error(`tfjs-backend-wasm has no '${kernelName}' kernel (is it 4.22.0?)`);
  return config.kernelFunc as unknown as KernelFunc;
}

// ---- Transpose --------------------------------------------------------------------------------

/** Swap of the last two axes written in JS, blocked so the inner loop writes contiguously. */
function transposeLastTwo(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const r = x.shape.length;
  const rows = x.shape[r - 2], cols = x.shape[r - 1];
  const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype);
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out);
  const BR = 64, BC = 8; // a 64×8 tile of the source stays in L1 while its 8 output rows fill
  for (let base = 0; base < src.length; base += rows * cols) {
    for (let r0 = 0; r0 < rows; r0 += BR) {
      const r1 = Math.min(r0 + BR, rows);
      for (let c0 = 0; c0 < cols; c0 += BC) {
        const c1 = Math.min(c0 + BC, cols);
        for (let c = c0; c < c1; c++) {
          const d = base + c * rows;
          for (let i = r0; i < r1; i++) dst[d + i] = src[base + i * cols + c];
        }
      }
    }
  }
  return out;
}

function isSwapLastTwo(perm: number[]): boolean {
  const r = perm.length;
  if (r < 2 || perm[r - 1] !== r - 2 || perm[r - 2] !== r - 1) return false;
  for (let i = 0; i < r - 2; i++) if (perm[i] !== i) return false;
  return true;
}

// ---- BatchMatMul --------------------------------------------------------------------------------

/**
 * BatchMatMul on XNNPACK for every case. The wasm module's BatchMatMul export takes the XNNPACK
 * fully-connected path for [1,m,k]×[1,k,n] without transposes, so: transposed operands are
 * materialised (or C^T = op(B)^T·op(A)^T is computed when that moves fewer elements), a single right
 * matrix with a non-transposed left operand is folded into one [batch·m,k]×[k,n] call, and other
 * batches become one call per output matrix on zero-copy views of the heap (temporary tensor ids).
 */
function makeBatchMatMul(): KernelFunc {
  const stock = stockKernel("BatchMatMul");
  let wasmBatchMatMul: ((...args: unknown[]) => void) | null = null;
  let wasmOf: WasmBackend | null = null;
  const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);

  return (args) => {
    const { inputs: { a, b }, backend } = args;
    const tA = Boolean(args.attrs.transposeA), tB = Boolean(args.attrs.transposeB);
    if (a.dtype !== "float32" || b.dtype !== "float32") return stock(args);
    const ra = a.shape.length, rb = b.shape.length;
    const m = tA ? a.shape[ra - 1] : a.shape[ra - 2], k = tA ? a.shape[ra - 2] : a.shape[ra - 1];
    const kB = tB ? b.shape[rb - 1] : b.shape[rb - 2], n = tB ? b.shape[rb - 2] : b.shape[rb - 1];
    if (k !== kB) {
      throw new Error(`Error in matMul: inner shapes (${k}) and (${kB}) of Tensors with shapes ${a.shape} and ` +
        `${b.shape} and transposeA=${tA} and transposeB=${tB} must match.`);
    }
    const batchShapeA = a.shape.slice(0, -2), batchShapeB = b.shape.slice(0, -2);
    const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(batchShapeA, batchShapeB);
    const batch = size(batchShape), batchA = size(batchShapeA), batchB = size(batchShapeB);
    if (m * n * k * batch === 0) return stock(args); // empty: nothing for XNNPACK to do
    if (wasmOf !== backend) {
      wasmBatchMatMul = backend.wasm.cwrap("BatchMatMul", null,
        ["number", "array", "number", "number", "array", "number", "number", "number", "number"]);
      wasmOf = backend;
    }
    const outShape = [...batchShape, m, n];
    const temps: TensorInfo[] = [];
    const transposed = (x: TensorInfo): TensorInfo => { const t = transposeLastTwo(backend, x); temps.push(t); return t; };
    const as3 = (x: TensorInfo, bat: number): TensorInfo => ({ ...x, shape: [bat, x.shape[x.shape.length - 2], x.shape[x.shape.length - 1]] });

    let out: TensorInfo;
    if (batchB === 1 && !tA && !tB) {
      // One weight matrix: fold the left batch into rows, a single XNNPACK call (stock path).
      const a2 = { ...a, shape: [1, batchA * m, k] };
      out = stock({ inputs: { a: a2, b: as3(b, 1) }, attrs: { transposeA: false, transposeB: false }, backend }) as TensorInfo;
    } else if (batchB === 1 && !tA && tB) {
      const a2 = { ...a, shape: [1, batchA * m, k] };
      out = stock({ inputs: { a: a2, b: transposed(as3(b, 1)) }, attrs: { transposeA: false, transposeB: false }, backend }) as TensorInfo;
    } else {
      // Choose between transposing the inputs and computing C^T then transposing it back.
      const direct = (tA ? batchA * m * k : 0) + (tB ? batchB * k * n : 0);
      const swapped = (tB ? 0 : batchB * k * n) + (tA ? 0 : batchA * m * k) + batch * m * n;
      const swap = swapped < direct;
      let left: TensorInfo, right: TensorInfo;
      if (!swap) {
        left = tA ? transposed(as3(a, batchA)) : as3(a, batchA);
        right = tB ? transposed(as3(b, batchB)) : as3(b, batchB);
      } else {
        left = tB ? as3(b, batchB) : transposed(as3(b, batchB));
        right = tA ? as3(a, batchA) : transposed(as3(a, batchA));
      }
      const rows = left.shape[1], inner = left.shape[2], cols = right.shape[2];
      const prod = backend.makeOutput([batch, rows, cols], "float32");
      // Broadcast batch index → operand index, as in numpy (an axis of size 1 repeats).
      const [shapeL, shapeR] = swap ? [batchShapeB, batchShapeA] : [batchShapeA, batchShapeB];
      const indexL = broadcastIndex(batchShape, shapeL), indexR = broadcastIndex(batchShape, shapeR);
      const offL = backend.dataIdMap.get(left.dataId).memoryOffset;
      const offR = backend.dataIdMap.get(right.dataId).memoryOffset;
      const offO = backend.dataIdMap.get(prod.dataId).memoryOffset;
      const sizeL = shapeBytes([1, rows, inner]), sizeR = shapeBytes([1, inner, cols]);
      const reg = backend.wasm.tfjs;
      const viewIds = new Map<string, number>(); // one id per distinct view: a shared right matrix keeps its packed XNNPACK weights
      const view = (key: string, count: number, offset: number): number => {
        let id = viewIds.get(key);
        if (id === undefined) { id = backend.dataIdNextNumber++; reg.registerTensor(id, count, offset); viewIds.set(key, id); }
        return id;
      };
      try {
        for (let i = 0; i < batch; i++) {
          const l = indexL[i], r = indexR[i];
          const idL = view(`L${l}`, rows * inner, offL + 4 * l * rows * inner);
          const idR = view(`R${r}`, inner * cols, offR + 4 * r * inner * cols);
          const idO = view(`O${i}`, rows * cols, offO + 4 * i * rows * cols);
          wasmBatchMatMul!(idL, sizeL, 3, idR, sizeR, 3, false, false, idO);
        }
      } finally {
        for (const id of viewIds.values()) reg.disposeData(id); // also frees the XNNPACK operator cached for that id
      }
      if (swap) { out = transposeLastTwo(backend, prod); backend.disposeData(prod.dataId); } else out = prod;
    }
    for (const t of temps) backend.disposeData(t.dataId);
    out.shape = outShape;
    return out;
  };
}

/** For each flat index of `outShape`, the flat index into `shape` (right-aligned, size-1 axes broadcast). */
export function broadcastIndex(outShape: number[], shape: number[]): Int32Array {
  const total = size(outShape);
  const result = new Int32Array(total);
  const offset = outShape.length - shape.length;
  const strides: number[] = new Array(shape.length).fill(0);
  for (let i = shape.length - 1, s = 1; i >= 0; i--) { strides[i] = shape[i] === 1 ? 0 : s; s *= shape[i]; }
  for (let flat = 0; flat < total; flat++) {
    let rem = flat, idx = 0;
    for (let ax = outShape.length - 1; ax >= 0; ax--) {
      const coord = rem % outShape[ax];
      rem = Math.floor(rem / outShape[ax]);
      const j = ax - offset;
      if (j >= 0) idx += coord * strides[j];
    }
    result[flat] = idx;
  }
  return result;
}

// ---- UnsortedSegmentSum ------------------------------------------------------------------------------

/** Scatter-add, O(N·D): out[ids[i]] += x[i]; ids outside [0, numSegments) are dropped (as in TF). */
function unsortedSegmentSum({ inputs: { x, segmentIds }, attrs, backend }: KernelArgs): TensorInfo {
  const numSegments = attrs.numSegments as number;
  const inner = size(x.shape.slice(segmentIds.shape.length));
  const out = backend.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  const src = backend.typedArrayFromHeap(x), ids = backend.typedArrayFromHeap(segmentIds);
  const dst = backend.typedArrayFromHeap(out);
  dst.fill(0); // makeOutput memory is not cleared
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (s < 0 || s >= numSegments) continue;
    const o = s * inner, xi = i * inner;
    for (let j = 0; j < inner; j++) dst[o + j] += src[xi + j];
  }
  return out;
}

// ---- GatherV2 ----------------------------------------------------------------------------------------

function makeGather(): KernelFunc {
  const stock = stockKernel("GatherV2");
  return (args) => {
    const { inputs: { x, indices }, attrs, backend } = args;
    const axis = attrs.axis as number, batchDims = (attrs.batchDims as number) ?? 0;
    if (x.shape.length !== 2 || (axis !== 0 && axis !== -2) || batchDims !== 0 || x.dtype !== "float32") return stock(args);
    const [rows, width] = x.shape;
    const out = backend.makeOutput([...indices.shape, width], "float32");
    const idx = backend.typedArrayFromHeap(indices);
    const src = backend.typedArrayFromHeap(x), dst = backend.typedArrayFromHeap(out);
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      if (!(r >= 0 && r <= rows - 1)) {
        backend.disposeData(out.dataId);
        throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
      }
      dst.set(src.subarray(r * width, (r + 1) * width), i * width);
    }
    return out;
  };
}

// ---- SplitV ------------------------------------------------------------------------------------------

/** Split along one axis as contiguous block copies: per outer index, each output takes its run of rows. */
function makeSplitV(): KernelFunc {
  const stock = stockKernel("SplitV");
  return (args) => {
    const { inputs: { x }, attrs, backend } = args;
    if (x.dtype === "string" || x.dtype === "complex64") return stock(args);
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, attrs.numOrSizeSplits as number | number[], axis);
    const outer = size(x.shape.slice(0, axis)), inner = size(x.shape.slice(axis + 1)), rowLen = x.shape[axis] * inner;
    const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === axis ? s : d)), x.dtype));
    const src = backend.typedArrayFromHeap(x); // views after all makeOutput calls (the heap may grow)
    let offset = 0;
    outs.forEach((out, k) => {
      const dst = backend.typedArrayFromHeap(out), len = sizes[k] * inner;
      for (let o = 0; o < outer; o++) dst.set(src.subarray(o * rowLen + offset, o * rowLen + offset + len), o * len);
      offset += len;
    });
    return outs;
  };
}

// ---- kernels only the cpu backend has ---------------------------------------------------------------

/** Runs the cpu backend's kernel on copies of the inputs: correct, not fast; only for rarely used ops. */
function cpuFallback(kernelName: string): KernelFunc {
  const cpuKernel = tf.getKernel(kernelName, "cpu")!.kernelFunc as unknown as (a: unknown) => TensorInfo | TensorInfo[];
  return ({ inputs, attrs, backend }) => {
    const cpu = tf.findBackend("cpu") as unknown as {
      write(v: tf.backend_util.BackendValues, s: number[], d: tf.DataType): DataId;
      readSync(id: DataId): tf.backend_util.BackendValues;
      disposeData(id: DataId, force?: boolean): boolean;
    };
    const copy = (t: TensorInfo): TensorInfo => ({ dataId: cpu.write(backend.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype });
    // Most kernels name their inputs; a few (Einsum, AddN, Concat, Pack) take an array.
    const cpuInputs = Array.isArray(inputs) ? (inputs as TensorInfo[]).map(copy)
      : Object.fromEntries(Object.entries(inputs).map(([name, t]) => [name, copy(t)]));
    try {
      const result = cpuKernel({ inputs: cpuInputs, attrs, backend: cpu });
      const copyBack = (o: TensorInfo): TensorInfo => {
        const values = cpu.readSync(o.dataId) as HeapArray;
        cpu.disposeData(o.dataId, true);
        const r = backend.makeOutput(o.shape, o.dtype);
        backend.typedArrayFromHeap(r).set(values);
        return r;
      };
      return Array.isArray(result) ? result.map(copyBack) : copyBack(result);
    } finally {
      for (const t of Object.values(cpuInputs)) cpu.disposeData(t.dataId, true);
    }
  };
}

// Kernels with string or complex tensors cannot be copied through the numeric wasm heap.
const NO_FALLBACK = new Set(["Complex", "ComplexAbs", "Real", "Imag", "FFT", "IFFT", "StaticRegexReplace", "Draw",
  "StringNGrams", "StringSplit", "StringToHashBucketFast", "DecodeBase64", "EncodeBase64"]);

let installed: string[] | null = null;

/**
 * Installs the overrides on the wasm backend (once per process; later calls return the same list).
 * Returns the kernel names replaced or added, for EngineInfo.
 */
export function installWasmKernels(): string[] {
  if (installed) return installed;
  const names: string[] = [];
  const transposeStock = stockKernel("Transpose");
  replaceKernel("Transpose", (args) => {
    const x = args.inputs.x, perm = args.attrs.perm as number[];
    if (!isSwapLastTwo(perm) || x.dtype === "string" || x.dtype === "complex64") return transposeStock(args);
    return transposeLastTwo(args.backend, x);
  });
  const identityStock = stockKernel("Identity");
  // Tensors are immutable, so an identity can share the buffer (the cpu backend does the same).
  replaceKernel("Identity", (args) => {
    const x = args.inputs.x;
    if (x.dtype === "string") return identityStock(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  const castStock = stockKernel("Cast");
  replaceKernel("Cast", (args) => {
    const x = args.inputs.x;
    if (args.attrs.dtype !== x.dtype || x.dtype === "string") return castStock(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
  replaceKernel("GatherV2", makeGather());
  replaceKernel("SplitV", makeSplitV());
  replaceKernel("BatchMatMul", makeBatchMatMul());
  replaceKernel("UnsortedSegmentSum", unsortedSegmentSum as KernelFunc);
  names.push("Transpose", "Identity", "Cast", "GatherV2", "SplitV", "BatchMatMul", "UnsortedSegmentSum");
  const onWasm = new Set(tf.getKernelsForBackend("wasm").map((k) => k.kernelName));
  for (const { kernelName } of tf.getKernelsForBackend("cpu")) {
    if (onWasm.has(kernelName) || NO_FALLBACK.has(kernelName)) continue;
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: cpuFallback(kernelName) as unknown as tf.KernelFunc });
    names.push(`${kernelName} (cpu fallback)`);
  }
  installed = names;
  return names;
}
