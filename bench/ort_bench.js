// onnxruntime-node timing of one ONNX model: median ms after warm-up, same protocol as
// bench_models. INPUT: a raw float32 file of the input tensor (written by bench_models
// SAVE, the real photo or faces); absent: uniform [-1, 1].
// usage: node bench/ort_bench.js MODEL.onnx N,C,H,W THREADS [WARMUP ITERS [INPUT]]
const fs = require('fs');
const ort = require('onnxruntime-node');
(async () => {
    const [file, shapeS, thr, warmS, itS, inputF] = process.argv.slice(2);
    const shape = shapeS.split(',').map(Number);
    const warm = Number(warmS || 3), iters = Number(itS || 15);
    const s = await ort.InferenceSession.create(file, {
        intraOpNumThreads: Number(thr), interOpNumThreads: 1, graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        // flush denormals as faceid does (session.set_denormal_as_zero; ORT_DAZ=0 turns it off)
        extra: {session: {set_denormal_as_zero: process.env.ORT_DAZ === '0' ? '0' : '1'}}});
    const n = shape.reduce((a, b) => a * b, 1);
    let x;
    if (inputF) {
        const b = fs.readFileSync(inputF);
        if (b.length !== 4 * n) throw new Error(inputF + ': ' + b.length + ' bytes, want ' + 4 * n);
        x = new Float32Array(b.buffer, b.byteOffset, n);
    } else {
        x = new Float32Array(n).map(() => Math.random() * 2 - 1);
    }
    const feeds = {[s.inputNames[0]]: new ort.Tensor('float32', x, shape)};
    for (let i = 0; i < warm; i++) await s.run(feeds);
    const t = [];
    for (let i = 0; i < iters; i++) {
        const t0 = process.hrtime.bigint();
        await s.run(feeds);
        t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    t.sort((a, b) => a - b);
    console.log(JSON.stringify({model: file, threads: Number(thr), median_ms: t[iters >> 1],
                                min_ms: t[0], input: inputF ? 'real' : 'random'}));
})().catch(e => { console.error(String(e)); process.exit(3); });
