#!/usr/bin/env node
// SPDX-License-Identifier: MIT
// onnxruntime goldens: runs every case (CPU EP, no graph optimisation, 1 thread) and writes
// <case>.case + raw little-endian float32 tensors. See docs/GOLDENS.md.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { execFileSync } = require('child_process');

const DET = ['det_500m', 'det_2.5g', 'scrfd_2.5g_bnkps'];
const DET640 = ['scrfd_500m_bnkps_640', 'scrfd_2.5g_bnkps_decoded_640'];
const MFN = ['mobilefacenet_prelu_512d', 'mobilefacenet_paddle_128d', 'mobilefacenet_relu6_128d'];
const IRES = ['iresnet100', 'iresnet50'];
// face attribute models (shared/models/faceplugin) and their inputs
const ATTR = [['fr_age', ['hanks_64', 'happy_64']], ['fr_gender', ['hanks_64', 'happy_64']],
              ['fr_expression', ['sad_224_unit']], ['fr_eye', ['hanks_eye_grey24']],
              ['fr_landmark', ['hanks_grey64']], ['fr_liveness', ['hanks_128_raw']],
              ['fr_pose', ['hanks_224', 'happy_224']]];

// [case name, model stem, kind, input name (see tools/golden_inputs.py)]
function caseList() {
    const c = [];
    for (const m of DET) {
        c.push([`${m}_t1_640`, m, 'raw', 't1_640']);
        c.push([`${m}_t1_480x640`, m, 'raw', 't1_480x640']);
    }
    for (const m of DET640) c.push([`${m}_t1_640`, m, 'raw', 't1_640']);
    for (const m of MFN) for (const i of ['lfw000_112', 'lfw001_112']) c.push([`${m}_${i}`, m, 'embedding', i]);
    for (const m of IRES) for (const i of ['lfw000_112', 'hanks_112']) c.push([`${m}_${i}`, m, 'embedding', i]);
    c.push(['resnet18_hanks_224', 'resnet18', 'raw', 'hanks_224']);
    c.push(['resnet18_occlusion_hanks_224', 'resnet18_occlusion', 'raw', 'hanks_224']);
    c.push(['resnet18_occlusion_obama_partial_224', 'resnet18_occlusion', 'raw', 'obama_partial_224']);
    for (const [stem, inputs] of ATTR) for (const i of inputs) c.push([`${stem}_${i}`, stem, 'raw', i]);
    return c;
}

// "--only small": the cases whose outputs are a few KB, committed under tests/data/golden
const isSmall = (name, stem) => !DET.includes(stem) && !DET640.includes(stem) &&
    !ATTR.some(([s]) => s === stem);  // attribute inputs are too big to commit

function parseArgs(argv) {
    const a = { onnx: [], out: null, allowMissing: false, only: null,
                shared: process.env.SHARED || path.join(__dirname, '..', '..', 'shared') };
    for (let i = 2; i < argv.length; i++) {
        const k = argv[i];
        const v = () => { if (i + 1 >= argv.length) usage(`${k} needs a value`); return argv[++i]; };
        if (k === '--onnx') a.onnx.push(...v().split(',').filter(Boolean));
        else if (k === '--out') a.out = v();
        else if (k === '--shared') a.shared = v();
        else if (k === '--only') a.only = v().split(',').filter(Boolean);
        else if (k === '--allow-missing') a.allowMissing = true;
        else usage(`unknown argument ${k}`);
    }
    if (!a.onnx.length || !a.out) usage('--onnx and --out are required');
    return a;
}

function usage(msg) {
    console.error(`golden.js: ${msg}\nusage: node tools/golden.js --onnx DIR1,DIR2 --out DIR ` +
                  '[--shared SHARED] [--only case1,case2|small] [--allow-missing]');
    process.exit(2);
}

function findModel(dirs, stem) {
    for (const d of dirs) {
        const p = path.join(d, `${stem}.onnx`);
        if (fs.existsSync(p)) return p;
    }
    return null;
}

function readF32(file, count) {
    const buf = fs.readFileSync(file);
    if (buf.length !== count * 4) throw new Error(`${file}: ${buf.length} bytes, want ${count * 4}`);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(i * 4);
    return out;
}

function writeF32(file, data) {
    const buf = Buffer.alloc(data.length * 4);
    for (let i = 0; i < data.length; i++) buf.writeFloatLE(data[i], i * 4);
    fs.writeFileSync(file, buf);
}

function cosine(a, b) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < a.length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
    return ab / Math.sqrt(aa * bb);
}

// The shared reference was produced by the same ORT version on the same inputs: it must agree.
function checkReference(ref, stem, inputName, outs) {
    let ok = true;
    const det = ref.detectors[`${stem}.onnx`];
    if (det && det.raw_outputs_t1_640 && inputName === 't1_640') {
        let worst = 0;
        det.raw_outputs_t1_640.forEach((r, i) => {
            const o = outs[i];
            const sum = o.data.reduce((s, v) => s + v, 0);
            const relSum = Math.abs(sum - r.sum) / Math.max(1, Math.abs(r.sum));
            const f5 = Math.max(...r.first5.map((v, j) => Math.abs(v - o.data[j])));
            const shapeOk = r.shape.join(',') === o.dims.join(',') && r.name === o.name;
            worst = Math.max(worst, relSum);
            if (!shapeOk || relSum > 1e-4 || f5 > 1e-5) {
                ok = false;
                console.log(`    ref MISMATCH ${r.name}: sum ${sum} vs ${r.sum}, first5 max|d| ${f5}`);
            }
        });
        console.log(`    check vs ort_reference.json raw_outputs_t1_640: ${det.raw_outputs_t1_640.length} ` +
                    `outputs, worst rel sum diff ${worst.toExponential(2)} -> ${ok ? 'OK' : 'FAIL'}`);
    }
    const rec = ref.recognizers[`${stem}.onnx`];
    if (rec && inputName === 'lfw000_112') {
        const e = outs[0].data;
        const d = Math.max(...rec.raw_embedding.map((v, j) => Math.abs(v - e[j])));
        const c = cosine(e, rec.raw_embedding);
        ok = d < 1e-4 && c > 0.99999;
        console.log(`    check vs ort_reference.json raw_embedding: max|d| ${d.toExponential(2)} ` +
                    `cos ${c.toFixed(7)} -> ${ok ? 'OK' : 'FAIL'}`);
    }
    return ok;
}

async function main() {
    const args = parseArgs(process.argv);
    let ort;
    try {
        ort = require('onnxruntime-node');
    } catch (e) {
        console.error('golden.js: onnxruntime-node missing; run `npm install --ignore-scripts` in the repo root');
        process.exit(2);
    }
    fs.mkdirSync(args.out, { recursive: true });
    execFileSync('/usr/bin/python3', [path.join(__dirname, 'golden_inputs.py'), '--shared', args.shared,
                                      '--out', args.out], { stdio: 'inherit' });
    const inputs = JSON.parse(fs.readFileSync(path.join(args.out, 'inputs.json'), 'utf8'));
    const ref = JSON.parse(fs.readFileSync(path.join(args.shared, 'data/reference/ort_reference.json'), 'utf8'));
    const opts = { executionProviders: ['cpu'], graphOptimizationLevel: 'disabled',
                   intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
                   logSeverityLevel: 3 };  // silence "output shape differs from model" at 480x640
    const ortVersion = require('onnxruntime-node/package.json').version;
    const sessions = new Map();
    const modelLines = [];  // provenance: goldens of generated models depend on their seed
    let written = 0, skipped = 0, failed = 0;
    for (const [name, stem, kind, inputName] of caseList()) {
        if (args.only && !args.only.includes(name) && !(args.only.includes('small') && isSmall(name, stem)))
            continue;
        const file = findModel(args.onnx, stem);
        if (!file) {
            if (!args.allowMissing) {
                console.error(`golden.js: ${stem}.onnx not found in ${args.onnx.join(',')}`);
                process.exit(1);
            }
            console.warn(`warning: ${stem}.onnx not found, skipping ${name}`);
            skipped++;
            continue;
        }
        if (!sessions.has(stem)) {
            sessions.set(stem, await ort.InferenceSession.create(file, opts));
            const sha = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
            modelLines.push(`${stem}.onnx ${sha}`);
        }
        const sess = sessions.get(stem);
        const inp = inputs[inputName];
        const count = inp.shape.reduce((p, d) => p * d, 1);
        const x = new ort.Tensor('float32', readF32(path.join(args.out, inp.file), count), inp.shape);
        const feeds = { [sess.inputNames[0]]: x };
        let res, ms = Infinity;
        for (let r = 0; r < 3; r++) {  // best of 3 (the first run includes warm-up)
            const t0 = process.hrtime.bigint();
            res = await sess.run(feeds);
            ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6);
        }
        const outs = sess.outputNames.map((n) => ({ name: n, dims: res[n].dims, data: res[n].data }));
        const lines = [`model ${stem}`, `kind ${kind}`,
                       `input ${sess.inputNames[0]} ${inp.shape.join(',')} ${inp.file}`];
        outs.forEach((o, i) => {
            const f = `${name}.out${i}.f32`;
            writeF32(path.join(args.out, f), o.data);
            lines.push(`output ${o.name} ${o.dims.join(',')} ${f}`);
        });
        fs.writeFileSync(path.join(args.out, `${name}.case`), lines.join('\n') + '\n');
        written++;
        const o0 = outs[0].data;
        let n2 = 0;
        for (const v of o0) n2 += v * v;
        console.log(`${name}: ORT ${ms.toFixed(1)} ms, ${outs.length} output(s), out0 [${outs[0].dims}] ` +
                    `|out0| ${Math.sqrt(n2).toFixed(4)} first3 ${Array.from(o0.slice(0, 3), (v) => v.toFixed(5))}`);
        if (!checkReference(ref, stem, inputName, outs)) failed++;
    }
    fs.writeFileSync(path.join(args.out, 'GENERATOR'), `onnxruntime-node ${ortVersion} CPU EP, ` +
                     'graphOptimizationLevel=disabled, 1 thread; tools/golden.js\n');
    fs.writeFileSync(path.join(args.out, 'MODELS'), modelLines.join('\n') + '\n');
    console.log(`golden.js: ${written} cases written to ${args.out}, ${skipped} skipped, ` +
                `${failed} reference check failure(s) (onnxruntime-node ${ortVersion})`);
    process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.error(`golden.js: ${e.stack || e}`); process.exit(1); });
