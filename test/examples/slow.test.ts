// The full runs of the examples that state an accuracy: 10 (LeNet-5 on MNIST) and 12 (doc 004's
// text classifier on the spam e-mails), each without --fast, held to what its header states.
// Several minutes on 2 cores, so `npm test` skips it. Run it with
//   TSGRAD_SLOW=1 npx mocha --no-config --node-option import=tsx --timeout 900000 test/examples/slow.test.ts
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agreements, numberAfter, runExample } from './run.js';

const slow = process.env.TSGRAD_SLOW === '1';

(slow ? describe : describe.skip)('examples in their full mode (TSGRAD_SLOW=1)', function () {
  this.timeout(900_000);
  const outDir = mkdtempSync(join(tmpdir(), 'tsgrad-examples-slow-'));
  after(() => rmSync(outDir, { recursive: true, force: true }));

  for (const [name, stated] of [['10-cnn-mnist', 0.97], ['12-text-classifier', 0.97]] as const) {
    it(`${name} reaches its stated test accuracy (≥ ${stated})`, async () => {
      const r = await runExample(name, ['--out', outDir]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.include(`(stated for the full run: ≥ ${stated})`);
      for (const d of agreements(r.stdout)) expect(d).to.be.at.most(1e-10);
      const accuracy = numberAfter(r.stdout, 'test accuracy:');
      console.log(`      ${name}: test accuracy ${accuracy} in ${r.seconds.toFixed(0)} s`);
      expect(accuracy).to.be.at.least(stated);
    });
  }
});
