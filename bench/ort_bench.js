// onnxruntime-node timing of one ONNX model: median ms after warm-up, same protocol as
// bench_models. usage: node bench/ort_bench.js MODEL.onnx N,C,H,W THREADS [WARMUP ITERS]
const ort = require('onnxruntime-node');
(async () => {
    const [file, shapeS, thr, warmS, itS] = process.argv.slice(2);
    const shape = shapeS.split(',').map(Number);
    const warm = Number(warmS || 3), iters = Number(itS || 15);
    const s = await ort.InferenceSession.create(file, {
        intraOpNumThreads: Number(thr), interOpNumThreads: 1, graphOptimizationLevel: 'all'});
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n).map(() => Math.random() * 2 - 1);
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
                                min_ms: t[0]}));
})().catch(e => { console.error(String(e)); process.exit(3); });
