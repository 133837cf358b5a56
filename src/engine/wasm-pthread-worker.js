// Emscripten pthread worker for tfjs-backend-wasm 4.22.0's threaded-SIMD build, runnable in Node.
// The backend hands its workers the main script as a Blob; Node cannot importScripts a blob: URL, so
// inside this worker every object URL resolves to the shipped standalone factory file instead
// (same Emscripten build as the bundle's inlined copy; both drive tfjs-backend-wasm-threaded-simd.wasm).
"use strict";
const factoryPath = require.resolve("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js");
const { wasmWorkerContents } = require("@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js");
URL.createObjectURL = () => factoryPath; // only this worker thread's URL object
URL.revokeObjectURL = () => {};
// The backend escapes newlines the same way before turning this source into a worker script.
new Function("require", "__filename", wasmWorkerContents.replace(/\n/g, "\\n"))(require, __filename);
