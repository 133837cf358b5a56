// The fast wasm path against the cpu backend (the reference): every kernel override gives the same
// numbers, threads are real, and nothing leaks.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initEngine, engineInfo, defaultThreads, type EngineInfo } from "../../src/engine";
import { runningWasmWorkers } from "../../src/engine/wasm-threads";
import { broadcastIndex } from "../../src/engine/wasm-kernels";

let info: EngineInfo;
before(async () => {
  info = await initEngine({ backend: "wasm", threads: 2 });
});

/** Runs fn on a backend and returns its outputs as plain arrays (inputs given as arrays). */
function on(backend: string, fn: () => tf.Tensor | tf.Tensor[]): { shape: number[]; values: Float32Array | Int32Array }[] {
  tf.setBackend(backend);
  try {
    return tf.tidy(() => {
      const out = fn();
      return (Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
    });
  } finally {
    tf.setBackend("wasm");
  }
}

function assertClose(label: string, fast: ReturnType<typeof on>, ref: ReturnType<typeof on>, rtol = 2e-6): void {
  assert.equal(fast.length, ref.length, label);
  for (let i = 0; i < ref.length; i++) {
    assert.deepEqual(fast[i].shape, ref[i].shape, `${label}: shape`);
    let scale = 1;
    for (const v of ref[i].values) scale = Math.max(scale, Math.abs(v));
    let worst = 0;
    for (let j = 0; j < ref[i].values.length; j++) worst = Math.max(worst, Math.abs(fast[i].values[j] - ref[i].values[j]));
    assert.ok(worst <= rtol * scale, `${label}: max |fast - cpu| = ${worst} > ${rtol} × ${scale}`);
  }
}

let seed = 1;
const rand = (shape: number[]) => tf.randomNormal(shape, 0, 1, "float32", seed++).arraySync() as unknown;
const T = (v: unknown) => tf.tensor(v as number[]);

/** Same op on the fast wasm backend and on cpu, compared. */
function same(label: string, inputs: unknown[], fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], rtol?: number): void {
  const run = () => fn(...inputs.map(T));
  assertClose(label, on("wasm", run), on("cpu", run), rtol);
}

test("the engine runs wasm with real threads, SIMD and the overrides", () => {
  assert.equal(info.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(info.threads, 2);
  assert.ok(runningWasmWorkers() >= 1, "at least one pthread worker runs beside the main thread");
  assert.equal(info.simd, true);
  assert.equal(info.tfjs, "4.22.0");
  for (const k of ["BatchMatMul", "UnsortedSegmentSum", "Transpose", "GatherV2", "SplitV"]) assert.ok(info.kernels.includes(k), k);
  assert.equal(engineInfo(), info);
});

test("initEngine is idempotent and refuses to change the thread count", async () => {
  assert.equal(await initEngine({ backend: "wasm", threads: 2 }), info);
  await assert.rejects(initEngine({ backend: "wasm", threads: 3 }), /already runs 2 thread\(s\)/);
  await initEngine({ backend: "wasm", threads: 2 });
  assert.equal(tf.getBackend(), "wasm");
});

test("matMul: 2-D, every transpose combination", () => {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    same(`2d tA=${tA} tB=${tB}`, [rand(tA ? [33, 17] : [17, 33]), rand(tB ? [29, 33] : [33, 29])], (a, b) => tf.matMul(a, b, tA, tB));
  }
});

test("matMul: batched (equal batches, rank 3 and 4), every transpose combination", () => {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    same(`3d tA=${tA} tB=${tB}`, [rand(tA ? [5, 24, 16] : [5, 16, 24]), rand(tB ? [5, 20, 24] : [5, 24, 20])], (a, b) => tf.matMul(a, b, tA, tB));
    same(`4d tA=${tA} tB=${tB}`, [rand(tA ? [2, 3, 8, 12] : [2, 3, 12, 8]), rand(tB ? [2, 3, 10, 8] : [2, 3, 8, 10])], (a, b) => tf.matMul(a, b, tA, tB));
  }
});

test("matMul: broadcast batch (a batched × one matrix, one matrix × b batched), every transpose combination", () => {
  for (const [tA, tB] of [[false, false], [true, false], [false, true], [true, true]]) {
    same(`[4,..]×[..] tA=${tA} tB=${tB}`, [rand(tA ? [4, 24, 16] : [4, 16, 24]), rand(tB ? [20, 24] : [24, 20])], (a, b) => tf.matMul(a, b, tA, tB));
    same(`[4,..]×[1,..] tA=${tA} tB=${tB}`, [rand(tA ? [4, 24, 16] : [4, 16, 24]), rand(tB ? [1, 20, 24] : [1, 24, 20])], (a, b) => tf.matMul(a, b, tA, tB));
    same(`[1,..]×[3,..] tA=${tA} tB=${tB}`, [rand(tA ? [1, 24, 16] : [1, 16, 24]), rand(tB ? [3, 20, 24] : [3, 24, 20])], (a, b) => tf.matMul(a, b, tA, tB));
  }
});

test("matMul: partial broadcast [2,1] × [1,3] equals the explicitly tiled product", () => {
  const a = rand([2, 1, 6, 5]), b = rand([1, 3, 5, 7]);
  const fast = on("wasm", () => tf.matMul(T(a), T(b)));
  const tiled = on("cpu", () => tf.matMul(tf.tile(T(a), [1, 3, 1, 1]), tf.tile(T(b), [2, 1, 1, 1])));
  assertClose("partial broadcast", fast, tiled);
  assert.deepEqual(Array.from(broadcastIndex([2, 3], [2, 1])), [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(Array.from(broadcastIndex([2, 3], [3])), [0, 1, 2, 0, 1, 2]);
});

test("matMul: gradients of a batched attention-like product", () => {
  same("attention grads", [rand([3, 10, 8]), rand([3, 10, 8]), rand([3, 10, 8])], (q, k, v) => {
    const f = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => tf.matMul(tf.softmax(tf.matMul(qq, kk, false, true)), vv).square().sum();
    return tf.grads(f)([q, k, v]);
  });
});

test("UnsortedSegmentSum (float32 and int32, repeated and dropped ids)", () => {
  const ids = [3, 0, 3, 1, 3, 0];
  same("segment sum f32", [rand([6, 5])], (x) => tf.unsortedSegmentSum(x, tf.tensor1d(ids, "int32"), 5));
  same("segment sum 1d", [rand([6])], (x) => tf.unsortedSegmentSum(x, tf.tensor1d(ids, "int32"), 4));
  const ints = on("wasm", () => tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6]], [3, 2], "int32"), tf.tensor1d([1, 1, 0], "int32"), 3));
  assert.deepEqual(Array.from(ints[0].values), [5, 6, 4, 6, 0, 0]);
});

test("gather forward and its gradient (the embedding path)", () => {
  const idx = [[4, 1, 4], [0, 7, 4]];
  same("gather", [rand([8, 6])], (table) => tf.gather(table, tf.tensor2d(idx, [2, 3], "int32")));
  same("gather grad", [rand([8, 6]), rand([2, 3, 6])], (table, dy) =>
    tf.grad((t: tf.Tensor) => tf.gather(t, tf.tensor2d(idx, [2, 3], "int32")).mul(dy).sum())(table));
  same("gather axis 1 (stock path)", [rand([4, 6])], (t) => tf.gather(t, tf.tensor1d([5, 0, 5], "int32"), 1));
  assert.throws(() => on("wasm", () => tf.gather(tf.zeros([3, 2]), tf.tensor1d([3], "int32"))), /GatherV2: the index value 3 is not in \[0, 2\]/);
});

test("Transpose (last two axes in JS, others stock), Identity and same-dtype Cast", () => {
  same("transpose 2d", [rand([70, 9])], (x) => tf.transpose(x));
  same("transpose 3d last two", [rand([3, 65, 10])], (x) => tf.transpose(x, [0, 2, 1]));
  same("transpose other perm", [rand([3, 4, 5])], (x) => tf.transpose(x, [2, 0, 1]));
  const ints = on("wasm", () => tf.transpose(tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], "int32")));
  assert.deepEqual(Array.from(ints[0].values), [1, 4, 2, 5, 3, 6]);
  same("identity/cast", [rand([4, 4])], (x) => [tf.clone(x), tf.cast(x, "float32"), tf.cast(x, "int32")]);
  // A shared buffer must outlive the tensor it came from.
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x), z = tf.cast(x, "float32");
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
  assert.deepEqual(Array.from(z.dataSync()), [1, 2, 3]);
  tf.dispose([y, z]);
});

test("SplitV (JS block copies): every axis, uneven sizes, int32, bit-identical to cpu", () => {
  same("split axis 1 uneven", [rand([2, 6, 3, 4])], (x) => tf.split(x, [4, 2], 1), 0);
  same("split axis 0", [rand([6, 5])], (x) => tf.split(x, 3, 0), 0);
  same("split last axis", [rand([3, 2, 8])], (x) => tf.split(x, [1, 5, 2], -1), 0);
  same("split grad (concat)", [rand([2, 6, 4]), rand([2, 4, 4])], (x, dy) =>
    tf.grad((t: tf.Tensor) => tf.split(t, [4, 2], 1)[0].mul(dy).sum())(x), 0);
  const ints = on("wasm", () => tf.split(tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], "int32"), [1, 2], 1));
  assert.deepEqual(ints.map((o) => Array.from(o.values)), [[1, 4], [2, 3, 5, 6]]);
});

test("kernels wasm lacks run through the cpu fallback", () => {
  same("einsum", [rand([3, 4]), rand([4, 5])], (a, b) => tf.einsum("ij,jk->ik", a, b));
});

test("no tensor or wasm buffer leaks across repeated fast-path calls", () => {
  const a = tf.randomNormal([4, 12, 8]), b = tf.randomNormal([4, 12, 8]), w = tf.randomNormal([8, 8]);
  const step = () => tf.tidy(() => {
    const f = (x: tf.Tensor) => tf.matMul(tf.matMul(x, w), b, false, true).sum();
    const g = tf.grad(f)(a);
    return tf.unsortedSegmentSum(g.reshape([48, 8]), tf.zeros([48], "int32"), 2).sum();
  });
  step().dispose();
  const before = tf.memory() as tf.MemoryInfo & { numBytesInWASM?: number };
  for (let i = 0; i < 5; i++) step().dispose();
  const after = tf.memory();
  assert.equal(after.numTensors, before.numTensors);
  assert.equal(after.numDataBuffers, before.numDataBuffers);
  tf.dispose([a, b, w]);
});

test("threads default to the number of cores", () => {
  assert.ok(defaultThreads() >= 1);
});
