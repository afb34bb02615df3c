import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * Layer rules (docs/ARCHITECTURE.md): each zone forbids `target` to import from `from` (minus `except`,
 * relative to `from`). A deliberate violation fails `npm run lint`.
 */
const layers = [
  {
    target: './src/domain',
    from: './src',
    except: ['./domain'],
    message: 'domain is pure: it imports only src/domain.',
  },
  {
    target: './src/ports',
    from: './src',
    except: ['./ports', './domain'],
    message: 'ports are interfaces: they import only src/domain and src/ports.',
  },
  {
    target: './src/services',
    from: './src',
    except: ['./services', './ports', './domain', './errors.ts', './observability'],
    message: 'services import only ports, domain, errors and observability; adapters are chosen in src/app.',
  },
  {
    target: './src/adapters',
    from: ['./src/services', './src/grpc', './src/cli', './src/commands', './src/app', './src/sim', './src/tui'],
    message: 'adapters never import services, grpc, cli, commands, app, sim or tui.',
  },
  {
    target: './src/commands',
    from: ['./src/adapters'],
    message: 'commands never import adapters: ask src/app (the composition root) for them.',
  },
  {
    target: './src/commands/!(index.ts|lazy.ts)',
    from: './src/commands',
    message: 'commands never import other commands: share code through src/app or src/cli.',
  },
  {
    target: ['./src/grpc', './src/sim', './src/tui', './src/config', './src/observability', './src/cli', './src/errors.ts'],
    from: ['./src/adapters'],
    message: 'only src/app (the composition root) imports concrete adapters.',
  },
  {
    target: ['./src/config', './src/errors.ts', './src/observability'],
    from: ['./src/cli', './src/commands', './src/app', './src/services', './src/grpc', './src/sim', './src/tui'],
    message: 'config, errors and observability sit below every service: they import none of them.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The single executable's entry: Node runs it as CommonJS (scripts/build-binary.mjs).
    files: ['scripts/sea/main.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly', URL: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'warn',
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layers }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'max-lines': ['error', { max: 400, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true, IIFEs: true }],
    },
  },
);
