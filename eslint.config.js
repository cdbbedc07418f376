// ESLint (flat config): typescript-eslint's type-aware recommended rules on the TypeScript the compiler
// builds (src, test, bench, fuzz; tsconfig.json's "include"). Formatting is Prettier's job (.prettierrc),
// so no stylistic rules here. Run: npm run lint.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', 'build/', 'node_modules/', 'bench/.cache/', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The link decodes bytes off the wire: comparing a number read from a frame with an enum member is
      // what decoding is, not a mistake.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // `_name` marks a parameter or binding kept for its position (a callback's signature, a destructured rest).
      // Arrays and numbers in messages read as "1,2,3" and "4", which is what the messages want.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowArray: true, allowBoolean: true, allowNullish: true, allowNumber: true, allowRegExp: true },
      ],
      // An async function without await still turns a throw into a rejection, which is why the API's
      // methods are async: that is intended, not a slip.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests, benchmarks and the fuzzer read JSON from files and child processes and check it with
    // assertions; typing every parsed object would add casts, not safety.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'fuzz/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // uvu's suite.skip and getters taken off a prototype are called unbound on purpose.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
