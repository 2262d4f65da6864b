// `npm run bench [-- --only W1,W2] [-- --quick] [-- --profile W5]`: runs the workloads of bench/README.md and prints
// one JSON line per result on stdout; progress goes to stderr. `--backend js,wasm` limits the
// kernel families. See bench/README.md.
import { workloads } from './workloads/index.js';
import type { BenchContext } from './harness.js';

function parseArgs(argv: string[]): { only: string[] | null; quick: boolean; profile: boolean; backends: string[] | null } {
  let only: string[] | null = null;
  let quick = false;
  let profile = false;
  let backends: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--profile') {
      profile = true;
      if (argv[i + 1] && !argv[i + 1].startsWith('--')) only = argv[++i].split(','); // --profile W5
    }
    else if (arg.startsWith('--profile=')) (profile = true), (only = arg.slice('--profile='.length).split(','));
    else if (arg === '--backend') backends = (argv[++i] ?? '').split(',');
    else if (arg === '--only') only = (argv[++i] ?? '').split(',');
    else if (arg.startsWith('--only=')) only = arg.slice('--only='.length).split(',');
    else throw new Error(`bench: unknown argument '${arg}' (expected --only W1,W2, --quick, --profile [W5], --backend js,wasm)`);
  }
  if (only) {
    only = only.map((id) => id.trim().toUpperCase()).filter((id) => id !== '');
    const unknown = only.filter((id) => !workloads.some((w) => w.id === id));
    if (unknown.length > 0) {
      throw new Error(`bench: unknown workload ${unknown.join(', ')} (known: ${workloads.map((w) => w.id).join(', ')})`);
    }
  }
  return { only, quick, profile, backends };
}

const { only, quick, profile, backends } = parseArgs(process.argv.slice(2));
const ctx: BenchContext = {
  quick,
  profile,
  backends,
  emit: (line) => process.stdout.write(JSON.stringify(line) + '\n'),
  progress: (message) => process.stderr.write(`[bench] ${message}\n`),
};
for (const workload of workloads) {
  if (only && !only.includes(workload.id)) continue;
  if (quick && workload.skipWhenQuick && !only) {
    ctx.progress(`${workload.id}: skipped with --quick (name it in --only to run it)`);
    continue;
  }
  ctx.progress(`${workload.id}: ${workload.title}${quick ? ' (quick)' : ''}`);
  await workload.run(ctx);
}
