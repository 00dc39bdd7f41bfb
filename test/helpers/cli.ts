/** Runs the `natgrad` CLI in-process through main(argv), capturing what it writes to stdout and stderr. */
import { main } from '../../src/cli/main';

export async function runCli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '', err = '';
  const so = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  const se = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
}
