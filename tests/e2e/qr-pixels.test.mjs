// The QR path's drawing (src/qr.rs: a subpath per row, each run a left edge down and a right
// edge up) paints exactly the pixels of a filled rectangle per run of dark modules, in Chromium,
// at scales that put module edges on and off the pixel grid. tests/data/qr_spec_invoice.path is
// what src/qr.rs draws for the spec invoice (tests/qr.rs pins it); qr_spec_invoice.rects.path is
// the same symbol as one `M{x} {y}h{n}v1h-{n}z` rectangle per run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launchBrowser, newPage, ROOT } from './harness.mjs';

const read = (f) => readFileSync(join(ROOT, 'tests', 'data', f), 'utf8').trim();
const ours = read('qr_spec_invoice.path');
const rects = read('qr_spec_invoice.rects.path');
const VIEW_BOX = 65; // version 10 (57 modules) and a quiet zone of 4 on each side

let browser;
before(async () => { browser = await launchBrowser(); });
after(() => browser?.close());

test('the row subpaths fill the same pixels as a rectangle per run (canvas, many scales)', async () => {
  assert.ok(ours.length < rects.length * 0.7, `${ours.length} chars vs ${rects.length}`);
  const page = await newPage(browser);
  try {
    const diffs = await page.evaluate(([a, b, box]) => {
      const paint = (d, px) => {
        const c = document.createElement('canvas');
        c.width = c.height = Math.ceil(px);
        const g = c.getContext('2d');
        g.fillStyle = '#fff';
        g.fillRect(0, 0, c.width, c.height);
        g.scale(px / box, px / box);
        g.fillStyle = '#000';
        g.fill(new Path2D(d));
        return g.getImageData(0, 0, c.width, c.height).data;
      };
      return [65, 100, 130, 177.7, 237.5, 260, 311, 400].map((px) => {
        const [x, y] = [paint(a, px), paint(b, px)];
        let n = 0;
        for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) n++;
        let dark = 0;
        for (let i = 0; i < x.length; i += 4) if (x[i] < 128) dark++;
        return { px, differing: n, dark };
      });
    }, [ours, rects, VIEW_BOX]);
    for (const d of diffs) {
      assert.equal(d.differing, 0, `${d.px} px: ${d.differing} bytes differ`);
      assert.ok(d.dark > 0, `${d.px} px: something is drawn`);
    }
  } finally {
    await page.context().close();
  }
});

test('the same as SVG in the page, as the widget draws it', async () => {
  const page = await newPage(browser);
  try {
    const shots = [];
    for (const d of [ours, rects]) {
      await page.setContent(`<svg viewBox="0 0 ${VIEW_BOX} ${VIEW_BOX}" width="237" height="237" style="background:#fff"><path fill="#000" d="${d}"/></svg>`);
      shots.push(await page.locator('svg').screenshot());
    }
    assert.ok(shots[0].equals(shots[1]), 'screenshots differ');
  } finally {
    await page.context().close();
  }
});
