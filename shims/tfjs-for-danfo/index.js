// danfojs-node requires "@tensorflow/tfjs-node"; it gets plain tfjs instead, so importing danfo neither
// loads libtensorflow nor switches tfjs's global backend, and the real tfjs-node keeps its own slot.
module.exports = require("@tensorflow/tfjs");
