/**
 * `vae-lens report`: one self-contained HTML file with the run panel (one run) or the compare
 * panel (several runs), data and images embedded.
 */
export async function writeReport(runDirs: string[], outFile: string): Promise<void> {
  void runDirs;
  void outFile;
  throw new Error('The HTML report is not available yet.');
}
