/**
 * The one place that imports TensorFlow.js. The umbrella package is imported (not tfjs-core alone)
 * because only its entry registers the gradient functions; see docs/performance.md and the notes on
 * tfjs under Deno. Everything in `lib/` takes `tf` from here.
 *
 * @module
 */
/** TensorFlow.js (the `@tensorflow/tfjs` umbrella package, version pinned in deno.json), with the PROD flag set. */
import * as tf from "@tensorflow/tfjs";

// PROD silences tfjs's console banners ("looks like you are running TensorFlow.js in Node.js"), which
// would otherwise break the rule that lib/ never prints.
tf.env().set("PROD", true);

export { tf };
export type { Rank, Scalar, Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable } from "@tensorflow/tfjs";
