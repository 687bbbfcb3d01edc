/** One long E2E scenario in named parts: the report says which part failed. */
import type { TestContext } from 'node:test';

export interface Scenario {
  /** Runs one part as a subtest; once a part has failed, the later ones (built on it) are reported as skipped, naming it. */
  step(name: string, body: () => Promise<void>): Promise<void>;
  /** Throws when a part failed, so the scenario's own failure handling (screenshot, logs) runs. */
  end(): void;
}

export function scenario(t: TestContext): Scenario {
  let failed: string | undefined;
  return {
    async step(name, body) {
      if (failed !== undefined) {
        await t.test(name, { skip: `not run: "${failed}" failed before it` }, () => undefined);
        return;
      }
      let passed = false;
      await t.test(name, async () => {
        await body();
        passed = true;
      });
      if (!passed) failed = name;
    },
    end() {
      if (failed !== undefined) throw new Error(`The part "${failed}" failed (see its subtest).`);
    },
  };
}
