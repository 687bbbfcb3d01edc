/**
 * A WebGPU adapter as users know it: "Apple M2 (Metal)", "NVIDIA H200 (Vulkan)", and whether it is
 * a software renderer (llvmpipe, SwiftShader, WARP), which trains slower than the wasm backend.
 * Pure functions of the adapter's info, so the naming rules are tested without a GPU.
 */

/** The fields of GPUAdapterInfo that VAE Lens reads (Dawn fills all four). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

export interface AdapterDescription {
  /** e.g. "NVIDIA H200 (Vulkan)": the device name and the native API Dawn drives it through. */
  display: string;
  name: string;
  /** Metal on macOS, D3D12 on Windows, Vulkan elsewhere (Dawn's default backend per platform). */
  api: 'Metal' | 'D3D12' | 'Vulkan';
  software: boolean;
  vendor: string;
  architecture: string;
  description: string;
}

export function nativeApi(platform: NodeJS.Platform): AdapterDescription['api'] {
  return platform === 'darwin' ? 'Metal' : platform === 'win32' ? 'D3D12' : 'Vulkan';
}

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i;

/** Words whose spelling a lower-cased, hyphenated device name ("nvidia-geforce-rtx-4090") lost. */
const SPELLING: Record<string, string> = {
  nvidia: 'NVIDIA', amd: 'AMD', ati: 'ATI', intel: 'Intel', apple: 'Apple', qualcomm: 'Qualcomm', arm: 'Arm',
  geforce: 'GeForce', rtx: 'RTX', gtx: 'GTX', quadro: 'Quadro', tesla: 'Tesla', radeon: 'Radeon', rx: 'RX',
  uhd: 'UHD', hd: 'HD', iris: 'Iris', xe: 'Xe', arc: 'Arc', adreno: 'Adreno', mali: 'Mali', pro: 'Pro', max: 'Max', ultra: 'Ultra',
};

/** "nvidia-h200" → "NVIDIA H200"; a name that kept its spelling ("Apple M2") is returned as it is. */
export function humanizeDeviceName(device: string): string {
  const trimmed = device.trim();
  if (!/^[a-z0-9-_.]+$/.test(trimmed)) return trimmed.replace(/\s+/g, ' ');
  return trimmed
    .split(/[-_]+/)
    .filter(Boolean)
    .map((w) => SPELLING[w] ?? (/\d/.test(w) ? w.toUpperCase() : w[0].toUpperCase() + w.slice(1)))
    .join(' ');
}

export function isSoftwareAdapter(info: AdapterInfoLike): boolean {
  if (info.isFallbackAdapter) return true;
  if ((info.architecture ?? '').toLowerCase() === 'software') return true;
  return SOFTWARE.test(`${info.device ?? ''} ${info.description ?? ''} ${info.vendor ?? ''}`);
}

export function describeAdapter(info: AdapterInfoLike, platform: NodeJS.Platform): AdapterDescription {
  const api = nativeApi(platform);
  const software = isSoftwareAdapter(info);
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const description = info.description ?? '';
  let name: string;
  if (software) {
    // Software drivers put their version in the description: "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6) 0.0.1".
    const renderer = (`${info.device ?? ''} ${description}`.match(SOFTWARE)?.[0] ?? 'software').toLowerCase();
    const mesa = description.match(/Mesa \d+(\.\d+)*/)?.[0];
    name = `${renderer}${mesa ? ` ${mesa}` : ''}, software`;
  } else if (info.device?.trim()) {
    name = humanizeDeviceName(info.device);
  } else if (description.trim()) {
    name = description.split(':')[0].trim();
  } else {
    name = [humanizeDeviceName(vendor), architecture].filter(Boolean).join(' ') || 'unnamed GPU';
  }
  return { display: `${name} (${api})`, name, api, software, vendor, architecture, description };
}
