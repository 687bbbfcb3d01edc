export function parallelAvailable(): boolean {
  return false;
}
