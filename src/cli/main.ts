/// <reference types="node" />
/**
 * The `natgrad` command (Node only; the library entry never imports this folder).
 * Bundled with its CLI-only dependencies into dist/cli.mjs by scripts/build-cli.mjs.
 */
import { NatgradError, VERSION } from '../index.js';
import { CliError } from './args.js';
import { demoCommand } from './demo.js';
import { evaluateCommand } from './evaluate.js';
import { pdeCommand } from './pde.js';
import { predictCommand } from './predict.js';
import { trainCommand } from './train.js';
import { reproduceCommand } from './reproduce.js';

/** One command: its runner (argv after the command name → exit code) and its line in the help. */
interface Command {
  run(argv: string[]): Promise<number>;
  summary: string;
}

/** Every command, in help order. */
export const COMMANDS: Record<string, Command> = {
  reproduce: { run: reproduceCommand, summary: "the paper's predictions and Figure 1, measured: PASS/FAIL table and HTML report" },
  train: { run: trainCommand, summary: 'train an MLP on a CSV table and write the model (and checkpoints)' },
  predict: { run: predictCommand, summary: "a saved model's predictions for the rows of a CSV table" },
  evaluate: { run: evaluateCommand, summary: "a saved model's loss and metrics on a CSV table" },
  demo: { run: demoCommand, summary: "exact NGD against GD on the paper's two-layer ReLU net" },
  pde: { run: pdeCommand, summary: 'a physics-informed net on Poisson 2-D/5-D, heat or −Δu + u³ = f: ENGD, Adam, L-BFGS' },
};

/** The command run when none is given. */
export const DEFAULT_COMMAND = 'demo';

export function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `natgrad ${VERSION}: natural gradient descent and K-FAC on a WebAssembly SIMD float64 core

Usage: natgrad <command> [options]     (natgrad <command> --help for its options)

Commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help     show this help
  -v, --version  print the version
`;
}

/**
 * Runs `natgrad` with `argv` (the arguments after the program name) and resolves to the exit
 * code: 0 success, 1 a computation failed, 2 a usage or input error (one line on stderr naming
 * the flag, or the file, line and column).
 */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '-h' || first === '--help' || first === 'help') { process.stdout.write(help()); return 0; }
  if (first === '-v' || first === '--version') { process.stdout.write(`${VERSION}\n`); return 0; }
  const name = first === undefined || first.startsWith('-') ? DEFAULT_COMMAND : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`natgrad: unknown command "${name}"; the commands are: ${Object.keys(COMMANDS).join(', ')}\n`);
    return 2;
  }
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`natgrad: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof NatgradError) {
      process.stderr.write(`natgrad: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
