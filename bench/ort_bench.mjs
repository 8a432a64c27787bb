// ort_bench.mjs - the ONNX Runtime peer of bench-peers.py (onnxruntime-node, CPU).
//
//   node bench/ort_bench.mjs MODEL.onnx --batch N --threads N [--warmup 3] [--iters 20]
//        [--input FILE.f32] [--output FILE.f32] [--serve]
//
// Session: intraOpNumThreads = N, interOpNumThreads = 1, executionMode sequential,
// graphOptimizationLevel "all" (ORT's full set of graph fusions), CPU execution provider.
// Last line: {"median_ms","min_ms","peak_rss_mb","base_rss_mb","load_ms",...}; base_rss_mb
// is the process's RSS before the session is created (node + the ORT library).
// --serve (lockstep with deit-bench, bench-peers.py --lockstep): after the warm-up it prints
// {"ready":true}, then answers each stdin line "W N" with W untimed and N timed runs and a
// line {"samples":[ms per image, ...]}; at end of input the last line covers every burst.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

function parseArgs(argv) {
  const a = { batch: 1, threads: 2, warmup: 3, iters: 20, input: null, output: null, model: null, serve: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--serve') {
      a.serve = true;
    } else if (k.startsWith('--')) {
      const v = argv[++i];
      const key = k.slice(2);
      a[key] = ['batch', 'threads', 'warmup', 'iters'].includes(key) ? parseInt(v, 10) : v;
    } else {
      a.model = k;
    }
  }
  if (!a.model) {
    console.error('usage: node ort_bench.mjs MODEL.onnx --batch N --threads N [--warmup N] [--iters N]');
    process.exit(2);
  }
  return a;
}

const rssMb = () => process.memoryUsage().rss / (1024 * 1024);
const median = (v) => {
  const s = [...v].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
};

const a = parseArgs(process.argv.slice(2));
const baseRss = rssMb();
let t0 = performance.now();
const session = await ort.InferenceSession.create(a.model, {
  executionProviders: ['cpu'],
  intraOpNumThreads: a.threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});
const loadMs = performance.now() - t0;

// input shape from the model: [batch, C, H, W]
const meta = session.inputMetadata ? session.inputMetadata[0] : null;
let dims = meta && meta.shape ? meta.shape.slice() : null;
if (!dims || dims.length !== 4 || typeof dims[2] !== 'number') {
  console.error('ort_bench: cannot read the input shape of', a.model);
  process.exit(1);
}
dims[0] = a.batch;
const count = dims.reduce((x, y) => x * y, 1);
let data;
if (a.input) {
  const buf = readFileSync(a.input);
  data = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  if (data.length !== count) {
    console.error(`ort_bench: ${a.input} holds ${data.length} floats, expected ${count}`);
    process.exit(1);
  }
} else {
  data = new Float32Array(count);
  let s = 12345;
  for (let i = 0; i < count; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s / 2147483648 - 1;
  }
}
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, dims) };
const samples = [];
let out = null;
// n runs; with timed, each run's ms per image is appended to samples
async function runs(n, timed) {
  for (let i = 0; i < n; i++) {
    t0 = performance.now();
    out = await session.run(feeds);
    const dt = performance.now() - t0;
    if (timed) samples.push(dt / a.batch);
  }
}
if (a.serve) {
  await runs(a.warmup, false);
  process.stdout.write('{"ready":true}\n');
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(line);
    if (!m || parseInt(m[2], 10) < 1) {
      console.error(`ort_bench: --serve expects lines "WARMUP ITERS", got: ${line}`);
      process.exit(2);
    }
    const first = samples.length;
    await runs(parseInt(m[1], 10), false);
    await runs(parseInt(m[2], 10), true);
    process.stdout.write(JSON.stringify({ samples: samples.slice(first).map((s) => Math.round(s * 1e4) / 1e4) }) + '\n');
  }
  if (samples.length === 0) {
    console.error('ort_bench: --serve: no burst was requested');
    process.exit(2);
  }
} else {
  await runs(a.warmup, false);
  await runs(a.iters, true);
}
if (a.output) {
  const logits = out[session.outputNames[0]].data;
  writeFileSync(a.output, Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
}
const peak = process.resourceUsage().maxRSS / 1024;
console.log(JSON.stringify({
  runtime: `onnxruntime-node ${ort.env.versions ? ort.env.versions.common : ''}`,
  batch: a.batch, threads: a.threads, serve: a.serve,
  median_ms: median(samples), min_ms: Math.min(...samples),
  peak_rss_mb: Math.round(peak * 10) / 10, base_rss_mb: Math.round(baseRss * 10) / 10,
  load_ms: Math.round(loadMs * 10) / 10,
  samples: samples.map((s) => Math.round(s * 1e4) / 1e4),
}));
