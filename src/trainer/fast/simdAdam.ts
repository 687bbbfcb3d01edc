/**
 * Adam as one WebAssembly SIMD loop that runs on TensorFlow.js's own wasm memory.
 *
 * tf.train.adam issues about ten kernels (each allocating a tensor) per variable per step, and a
 * plain JavaScript loop over the 816k parameters of chainer-mlp still costs 5–9 ms here. This
 * module is a few hundred bytes of wasm, assembled below, that imports the tfjs backend's
 * WebAssembly.Memory and updates parameters, gradients and both moments in place, four lanes at a
 * time, with exactly tfjs's float32 operation order:
 *   m ← m·β1 + g·(1−β1);  v ← v·β2 + g²·(1−β2);  θ ← (m/c1) / (√(v/c2) + ε) · (−α) + θ
 * where c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ. Arrays are byte offsets into that memory; lengths are
 * multiples of 4 (the callers pad).
 *
 * Functions: adam1/adam2(p, g, g2, m, v, n, b1, b2, o1, o2, c1, c2, negLr, eps), f32 but the first
 * six; adam2 uses g + g2 as the gradient (two data-parallel replicas' parts of one batch).
 */

import { webAssembly, type WasmMemory } from './wasmHeap';

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function str(s: string): number[] {
  return [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
}

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

// Opcodes.
const LOCAL_GET = 0x20;
const LOCAL_SET = 0x21;
const I32_ADD = 0x6a;
const I32_GE_U = 0x4f;
const I32_CONST = 0x41;
const I32_SHL = 0x74;
const SIMD = 0xfd;
const v128Load = [SIMD, 0x00, 4, 0];
const v128Store = [SIMD, 0x0b, 4, 0];
const f32x4Splat = [SIMD, 0x13];
const f32x4Add = [SIMD, 0xe4, 0x01];
const f32x4Mul = [SIMD, 0xe6, 0x01];
const f32x4Div = [SIMD, 0xe7, 0x01];
const f32x4Sqrt = [SIMD, 0xe3, 0x01];

// Parameter indices (the same for both functions; adam1 ignores g2).
const P = 0, G = 1, G2 = 2, M = 3, V = 4, N = 5;
const B1 = 6;
// Locals after the 14 parameters: i, end (i32); splats of the 8 scalars, gv, mv, vv (v128).
const I = 14, END = 15;
const S0 = 16; // splat of scalar parameter B1 + k at S0 + k (k = 0..7)
const GV = 24, MV = 25, VV = 26;
const [SB1, SB2, SO1, SO2, SC1, SC2, SNLR, SEPS] = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => S0 + k);

function get(i: number): number[] {
  return [LOCAL_GET, i];
}
function addr(base: number): number[] {
  return [...get(base), ...get(I), I32_ADD];
}

function body(withG2: boolean): number[] {
  const code: number[] = [];
  for (let k = 0; k < 8; k++) code.push(...get(B1 + k), ...f32x4Splat, LOCAL_SET, S0 + k);
  // end = n << 2 (bytes); i = 0 (locals start at zero).
  code.push(...get(N), I32_CONST, 2, I32_SHL, LOCAL_SET, END);
  code.push(0x02, 0x40, 0x03, 0x40); // block, loop
  code.push(...get(I), ...get(END), I32_GE_U, 0x0d, 1); // br_if 1 when i >= end
  // gv = g[i] (+ g2[i])
  code.push(...addr(G), ...v128Load);
  if (withG2) code.push(...addr(G2), ...v128Load, ...f32x4Add);
  code.push(LOCAL_SET, GV);
  // mv = m[i]·β1 + gv·(1−β1); m[i] = mv
  code.push(...addr(M), ...v128Load, ...get(SB1), ...f32x4Mul, ...get(GV), ...get(SO1), ...f32x4Mul, ...f32x4Add, LOCAL_SET, MV);
  code.push(...addr(M), ...get(MV), ...v128Store);
  // vv = v[i]·β2 + (gv·gv)·(1−β2); v[i] = vv
  code.push(...addr(V), ...v128Load, ...get(SB2), ...f32x4Mul, ...get(GV), ...get(GV), ...f32x4Mul, ...get(SO2), ...f32x4Mul, ...f32x4Add, LOCAL_SET, VV);
  code.push(...addr(V), ...get(VV), ...v128Store);
  // p[i] = (mv/c1) / (√(vv/c2) + ε) · (−α) + p[i]
  code.push(...addr(P));
  code.push(...get(MV), ...get(SC1), ...f32x4Div);
  code.push(...get(VV), ...get(SC2), ...f32x4Div, ...f32x4Sqrt, ...get(SEPS), ...f32x4Add);
  code.push(...f32x4Div, ...get(SNLR), ...f32x4Mul);
  code.push(...addr(P), ...v128Load, ...f32x4Add, ...v128Store);
  // i += 16; continue
  code.push(...get(I), I32_CONST, 16, I32_ADD, LOCAL_SET, I, 0x0c, 0);
  code.push(0x0b, 0x0b); // end loop, end block
  code.push(0x0b); // end function
  const locals = [3, 2, I32, 8, V128, 3, V128]; // 2×i32, 8×v128 splats, 3×v128
  return [...uleb(locals.length + code.length), ...locals, ...code];
}

function moduleBytes(): Uint8Array {
  const params = [I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32];
  const type = section(1, [1, 0x60, ...uleb(params.length), ...params, 0]);
  const imp = section(2, [1, ...str('env'), ...str('memory'), 0x02, 0x00, 0]);
  const func = section(3, [2, 0, 0]);
  const exp = section(7, [2, ...str('adam1'), 0x00, 0, ...str('adam2'), 0x00, 1]);
  const b1 = body(false);
  const b2 = body(true);
  const code = section(10, [2, ...b1, ...b2]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...type, ...imp, ...func, ...exp, ...code]);
}

/** g2 = 0: no second gradient. */
export type SimdAdamFn = (p: number, g: number, g2: number, m: number, v: number, n: number, b1: number, b2: number, o1: number, o2: number, c1: number, c2: number, negLr: number, eps: number) => void;

const instances = new WeakMap<WasmMemory, SimdAdamFn>();

/** The SIMD Adam bound to `memory`, or null when this engine cannot compile it. */
export function simdAdamFor(memory: WasmMemory): SimdAdamFn | null {
  const cached = instances.get(memory);
  if (cached) return cached;
  try {
    const bytes = moduleBytes();
    const module = new webAssembly.Module(bytes);
    const instance = new webAssembly.Instance(module, { env: { memory } });
    const adam1 = instance.exports.adam1 as SimdAdamFn;
    const adam2 = instance.exports.adam2 as SimdAdamFn;
    const fn: SimdAdamFn = (p, g, g2, ...rest) => (g2 === 0 ? adam1 : adam2)(p, g, g2, ...rest);
    instances.set(memory, fn);
    return fn;
  } catch {
    return null;
  }
}
