/**
 * npm run test:mutations [-- --only a,b] [--list] [--check] [--keep] [--timeout S]
 *
 * Mutation probe: applies each mutation of ./list.ts, one at a time, to a scratch copy of
 * the working tree (node_modules and .cache linked, not copied), runs only the test files
 * mapped to it, and reports caught / survived as a table. It refuses to report at all when
 * a mutation's text no longer applies, when the mapped test files do not pass unmutated,
 * or when the control mutation survives. Exit status 0 only when every mutation was caught.
 * See docs/mutation-testing.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutations, type Mutation } from './list';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Args = { only?: string[]; list: boolean; check: boolean; keep: boolean; timeoutS: number };

function parseArgs(argv: string[]): Args {
  const a: Args = { list: false, check: false, keep: false, timeoutS: 300 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    if (v === '--only') a.only = argv[++i]!.split(',').filter(Boolean);
    else if (v === '--list') a.list = true;
    else if (v === '--check') a.check = true;
    else if (v === '--keep') a.keep = true;
    else if (v === '--timeout') a.timeoutS = Number(argv[++i]);
    else throw new Error(`unknown argument ${v}`);
  }
  return a;
}

const count = (hay: string, needle: string) => hay.split(needle).length - 1;

/** Every edit must apply exactly once to the current tree, and every mapped test file exist. */
function staleEntries(list: Mutation[]): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const m of list) {
    if (names.has(m.name)) problems.push(`${m.name}: duplicate name`);
    names.add(m.name);
    if (!m.tests.length) problems.push(`${m.name}: no test files mapped`);
    for (const t of m.tests) if (!existsSync(path.join(ROOT, t))) problems.push(`${m.name}: test file ${t} does not exist`);
    // Edits apply in order, so a second edit of the same file sees the first one's result.
    const files = new Map<string, string>();
    for (const e of m.edits) {
      const abs = path.join(ROOT, e.file);
      if (!existsSync(abs)) {
        problems.push(`${m.name}: ${e.file} does not exist`);
        continue;
      }
      const text = files.get(e.file) ?? readFileSync(abs, 'utf8');
      const n = count(text, e.find);
      if (n !== 1) problems.push(`${m.name}: ${e.file}: search text found ${n} times (want exactly 1): ${JSON.stringify(e.find.slice(0, 90))}`);
      else files.set(e.file, text.replace(e.find, e.replace));
    }
  }
  return problems;
}

/** A copy of the working tree as it is (tracked and untracked, not ignored), with deps linked. */
function scratchCopy(): { dir: string; files: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'boxoffice-mutations-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT })
    .toString()
    .split('\0')
    .filter((f) => f && existsSync(path.join(ROOT, f)));
  return { dir, files };
}

async function populate(dir: string, files: string[]) {
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    await copyFile(path.join(ROOT, f), path.join(dir, f));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
}

type RunResult = { ok: boolean; timedOut: boolean; broken: boolean; seconds: number; failures: string[]; output: string };

/** Runs vitest on `tests` in `dir`; failures are the first lines of the failed assertions. */
function runTests(dir: string, tests: string[], timeoutS: number): Promise<RunResult> {
  const report = path.join(dir, '.mutation-report.json');
  rmSync(report, { force: true });
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      // One file at a time: several timing-sensitive files at once on 2 cores fail each other.
      [path.join(dir, 'node_modules/vitest/vitest.mjs'), 'run', ...tests, '--no-file-parallelism', '--reporter=dot', '--reporter=json', `--outputFile.json=${report}`],
      {
        cwd: dir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        // The project's script starts private Kafka brokers from this cache (no second download).
        env: { ...process.env, BOXOFFICE_CACHE: process.env.BOXOFFICE_CACHE ?? path.join(ROOT, '.cache'), FORCE_COLOR: '0' },
      },
    );
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, timeoutS * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const failures = failuresOf(report, output);
      // A run that failed without a failed test (a crash, a missing module) proves nothing.
      const broken = code !== 0 && !timedOut && !existsSync(report);
      resolve({ ok: code === 0 && !timedOut, timedOut, broken, seconds: (Date.now() - started) / 1000, failures, output });
    });
  });
}

function failuresOf(report: string, output: string): string[] {
  try {
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      testResults: { name: string; message?: string; assertionResults: { status: string; title: string; failureMessages: string[] }[] }[];
    };
    const out: string[] = [];
    for (const f of r.testResults) {
      for (const a of f.assertionResults) {
        if (a.status === 'failed') out.push(`${path.basename(f.name)} › ${a.title}: ${firstLine(a.failureMessages[0] ?? '')}`);
      }
      if (!f.assertionResults.some((a) => a.status === 'failed') && f.message) out.push(`${path.basename(f.name)}: ${firstLine(f.message)}`);
    }
    return out;
  } catch {
    const m = /(AssertionError|Error): [^\n]*/.exec(output);
    return m ? [m[0]] : [];
  }
}

const firstLine = (s: string) => s.split('\n').find((l) => l.trim())?.trim().slice(0, 220) ?? '';

function applyEdits(dir: string, m: Mutation, pristine: Map<string, string>) {
  for (const e of m.edits) {
    const abs = path.join(dir, e.file);
    if (!pristine.has(e.file)) pristine.set(e.file, readFileSync(abs, 'utf8'));
    const text = readFileSync(abs, 'utf8');
    writeFileSync(abs, text.replace(e.find, e.replace));
  }
}

function restore(dir: string, pristine: Map<string, string>) {
  for (const [file, text] of pristine) writeFileSync(path.join(dir, file), text);
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const chosen = args.only ? mutations.filter((m) => args.only!.includes(m.name) || m.control) : mutations;
  if (args.only) {
    const unknown = args.only.filter((n) => !mutations.some((m) => m.name === n));
    if (unknown.length) throw new Error(`unknown mutation(s): ${unknown.join(', ')}`);
  }
  if (args.list) {
    for (const m of mutations) console.log(`${m.name.padEnd(34)} ${m.edits.map((e) => e.file).join(', ')}  ->  ${m.tests.join(' ')}`);
    return;
  }

  const stale = staleEntries(mutations);
  if (stale.length) {
    console.error('Refusing to report: these mutations no longer apply to the code (update scripts/mutations/list.ts):');
    for (const p of stale) console.error(`  - ${p}`);
    process.exit(2);
  }
  if (args.check) {
    console.log(`${mutations.length} mutations apply to the current tree.`);
    return;
  }

  const { dir, files } = scratchCopy();
  console.log(`scratch copy: ${dir}`);
  await populate(dir, files);
  try {
    // Baseline: the mapped files must pass unmutated, or a "caught" would mean nothing.
    const allTests = [...new Set(chosen.flatMap((m) => m.tests))].sort();
    console.log(`baseline: ${allTests.length} test files unmutated ...`);
    const base = await runTests(dir, allTests, args.timeoutS * 3);
    // A file that fails unmutated and then passes alone is flaky: reported, since a mutation
    // "caught" only by it may be luck. Failing twice means the tree itself is red.
    const flaky = new Set<string>();
    if (!base.ok) {
      const failedFiles = [...new Set(base.failures.map((f) => f.split(' ')[0]!.replace(/:$/, '')))];
      const retry = failedFiles.length ? allTests.filter((t) => failedFiles.includes(path.basename(t))) : allTests;
      console.log(`baseline failed (${base.failures.join('; ').slice(0, 300)}); retrying ${retry.join(' ')} once`);
      const again = await runTests(dir, retry, args.timeoutS * 3);
      if (!again.ok) {
        console.error(`Refusing to report: the unmutated tree fails (${again.timedOut ? 'timeout' : 'failures'} after ${again.seconds.toFixed(0)} s):`);
        for (const f of again.failures) console.error(`  - ${f}`);
        if (!again.failures.length) console.error(again.output.slice(-3000));
        process.exit(3);
      }
      for (const f of base.failures) flaky.add(f);
    }
    console.log(`baseline passed in ${base.seconds.toFixed(0)} s${flaky.size ? ` (flaky on the first run: ${[...flaky].join('; ')})` : ''}`);

    const rows: { m: Mutation; r: RunResult }[] = [];
    for (const [i, m] of chosen.entries()) {
      const pristine = new Map<string, string>();
      applyEdits(dir, m, pristine);
      process.stdout.write(`[${i + 1}/${chosen.length}] ${m.name} ... `);
      const r = await runTests(dir, m.tests, args.timeoutS);
      restore(dir, pristine);
      console.log(r.ok ? `SURVIVED (${r.seconds.toFixed(0)} s)` : r.broken ? `ERROR, no test ran (${r.failures[0] ?? ''})` : `caught${r.timedOut ? ' (timeout only)' : ''} (${r.seconds.toFixed(0)} s)`);
      rows.push({ m, r });
    }

    const control = rows.filter((x) => x.m.control);
    if (control.some((x) => x.r.ok)) {
      console.error('Refusing to report: the control mutation survived, so the probe does not see failures.');
      process.exit(4);
    }

    console.log('\n| # | mutation | promise | file(s) | guarded by | result | s | first failure |');
    console.log('|---|---|---|---|---|---|---|---|');
    rows.forEach(({ m, r }, i) => {
      const result = r.ok ? '**SURVIVED**' : r.broken ? '**ERROR** (no test ran)' : r.timedOut ? 'caught (timeout only)' : 'caught';
      console.log(
        `| ${i + 1} | ${m.name}${m.control ? ' (control)' : ''} | ${cell(m.promise)} | ${[...new Set(m.edits.map((e) => e.file))].join(', ')} | ` +
          `${m.tests.map((t) => path.basename(t)).join(', ')} | ${result} | ${r.seconds.toFixed(0)} | ${cell(r.failures[0] ?? '')} |`,
      );
    });
    if (flaky.size) {
      console.log('\nFlaky unmutated (failed once, then passed):');
      for (const f of flaky) console.log(`- ${f}`);
    }
    const survived = rows.filter((x) => x.r.ok);
    const timeouts = rows.filter((x) => x.r.timedOut || x.r.broken);
    console.log(`\n${rows.length} mutations: ${rows.length - survived.length - timeouts.length} caught by an assertion, ${timeouts.length} by timeout or error only, ${survived.length} survived.`);
    process.exitCode = survived.length || timeouts.length ? 1 : 0;
  } finally {
    if (args.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
