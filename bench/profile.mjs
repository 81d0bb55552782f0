// Where the time goes: a CPU profile (Chrome DevTools Protocol, `Profiler.start`/`stop`) of one
// of the speed page's wasm hooks, called in a loop, reduced to the functions with the most self
// time. The page must load the bench build that keeps its function names (bench/out/pkg-bench-names:
// the same wasm-opt pass as the timed build, with -g), or the wasm functions have only numbers.

/**
 * Profiles `expression` (a page expression that runs the hook for about `ms` milliseconds, after
 * an untimed warm-up of the same length so the code is tiered up) and answers the `top` functions
 * by self time, with their share of the samples taken while the loop ran.
 */
export async function profileHook(page, expression, { ms = 1500, top = 8, intervalUs = 100 } = {}) {
  const cdp = await page.context().newCDPSession(page);
  try {
    await page.evaluate(`(async () => { const end = performance.now() + ${ms}; while (performance.now() < end) { ${expression}; } })()`);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await cdp.send('Profiler.start');
    await page.evaluate(`(() => { const end = performance.now() + ${ms}; while (performance.now() < end) { ${expression}; } })()`);
    const { profile } = await cdp.send('Profiler.stop');
    await cdp.send('Profiler.disable');
    return selfTimes(profile, top);
  } finally {
    await cdp.detach().catch(() => {});
  }
}

/** Self time by function name (the profile's samples; idle and the profiler's own nodes left out). */
export function selfTimes(profile, top) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map();
  let total = 0;
  for (const id of profile.samples) {
    const f = byId.get(id)?.callFrame;
    if (!f || ['(idle)', '(program)', '(root)'].includes(f.functionName)) continue;
    const name = shortName(f.functionName || '(anonymous)', f.url);
    counts.set(name, (counts.get(name) ?? 0) + 1);
    total++;
  }
  const functions = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([name, n]) => ({ name, share: n / total }));
  return { samples: total, functions };
}

/** A readable name: Rust paths without their hash and generic noise; JS functions with their file. */
function shortName(name, url) {
  let s = name.replace(/::h[0-9a-f]{16}$/, '').replace(/^\$/, '');
  // `<T as Trait>::f` and `_<..>` generics: keep the path, drop the type arguments.
  for (let i = 0; i < 4; i++) s = s.replace(/<[^<>]*>/g, (m) => (m.includes(' as ') ? m : ''));
  if (url && !url.endsWith('.wasm') && !/wasm/.test(url) && !s.includes('::')) s = `${s} (${url.split('/').pop()})`;
  return s;
}

/** `name 41%, name 12%, …` */
export const describeProfile = (p) => p.functions.map((f) => `${f.name} ${Math.round(f.share * 100)}%`).join(', ');
