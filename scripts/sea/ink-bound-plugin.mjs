// esbuild plugin: in the single executable's bundle, Ink's two text-measuring modules
// (ink/build/measure-text.js, ink/build/wrap-text.js), whose module-level caches never forget, are
// replaced by the bounded ones of src/tui/ink-bounded.ts, built on the same measuring packages Ink
// imports (resolved from Ink's folder). The npm install bounds them at run time instead
// (src/tui/ink-text-cache.ts), which cannot reach Ink's files inside a bundle.
import { fileURLToPath } from 'node:url';

const bounded = fileURLToPath(new URL('../../src/tui/ink-bounded.ts', import.meta.url));
const INK_MODULE = /[\\/]node_modules[\\/]ink[\\/]build[\\/](measure-text|wrap-text)\.js$/;

const replacements = {
  'measure-text': [
    "import widestLine from 'widest-line';",
    `import { boundedMeasureText } from ${JSON.stringify(bounded)};`,
    'export default boundedMeasureText(widestLine);',
  ],
  'wrap-text': [
    "import wrapAnsi from 'wrap-ansi';",
    "import cliTruncate from 'cli-truncate';",
    `import { boundedWrapText } from ${JSON.stringify(bounded)};`,
    'export default boundedWrapText(wrapAnsi, cliTruncate);',
  ],
};

/** The plugin, and `replaced`: the Ink modules it replaced (a build's check that the bound is in). */
export function inkBoundPlugin() {
  const replaced = new Set();
  const plugin = {
    name: 'ink-bounded-caches',
    setup(b) {
      b.onLoad({ filter: INK_MODULE }, (args) => {
        const which = INK_MODULE.exec(args.path)[1];
        replaced.add(which);
        // resolveDir: Ink's folder, so 'widest-line' & co. are the versions Ink itself uses.
        return { contents: replacements[which].join('\n'), loader: 'js', resolveDir: args.path.replace(/[\\/][^\\/]+$/, '') };
      });
    },
  };
  return { plugin, replaced };
}
