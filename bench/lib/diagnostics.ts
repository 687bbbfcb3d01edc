export async function runDiagnosticsBench(_quick: boolean): Promise<void> {}
