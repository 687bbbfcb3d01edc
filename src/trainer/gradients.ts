/**
 * Registers TensorFlow.js's gradients, which tfjs-core's Node bundle leaves out (the union package
 * @tensorflow/tfjs would register them; VAE Lens depends on tfjs-core only).
 *
 * The path is relative on purpose: the tests are bundled with every package external, and Node
 * cannot load tfjs-core's ESM sources (extensionless imports) at run time; a relative path makes
 * esbuild inline them in every bundle, the trainer's and the tests'. The gradient registry is
 * global, so these registrations serve the tfjs-core instance the rest of the trainer imports.
 */
import '../../node_modules/@tensorflow/tfjs-core/dist/register_all_gradients';
