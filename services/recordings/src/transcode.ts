import { spawn } from 'node:child_process';
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { AppError } from '@cz/common';

/** Browser-playable output for AMR: MP3 (MPEG-2 layer III), mono, 22.05 kHz, 48 kbit/s — ample for telephone speech. */
export const PLAYABLE_TYPE = 'audio/mpeg';
const FFMPEG_OUTPUT = ['-vn', '-ac', '1', '-ar', '22050', '-c:a', 'libmp3lame', '-b:a', '48k', '-f', 'mp3'];
const STDERR_KEEP = 2000;

/** Is ffmpeg runnable? Checked at start-up so its absence is reported once, clearly. */
export async function probeFfmpeg(ffmpegPath: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(ffmpegPath, ['-hide_banner', '-version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve(code === 0 ? (out.split('\n')[0] ?? 'ffmpeg') : undefined));
  });
}

export const transcoderMissing = (ffmpegPath: string) =>
  new AppError(
    503,
    'transcoder_unavailable',
    `AMR cannot be made playable: ffmpeg (${ffmpegPath}) is not installed on the recordings server ` +
      "(install Debian's ffmpeg package; scripts/stack/install.sh does) — or request ?format=original",
  );

/**
 * AMR (NB or WB, with the storage-format header) → MP3 through ffmpeg. The output stream ends only
 * when ffmpeg exited with 0; a failing or killed ffmpeg errors it instead of ending it early, so a
 * half-made transcode is never stored as complete.
 */
export function transcodeToMp3(ffmpegPath: string, input: Readable): Readable {
  const child = spawn(
    ffmpegPath,
    [
      '-hide_banner',
      '-nostats',
      '-loglevel',
      'error',
      '-f',
      'amr',
      '-i',
      'pipe:0',
      ...FFMPEG_OUTPUT,
      'pipe:1',
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const output = new PassThrough();
  let stderr = '';
  let failed = false;
  const fail = (err: Error) => {
    if (failed) return;
    failed = true;
    child.kill('SIGKILL');
    input.destroy();
    output.destroy(err);
  };
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < STDERR_KEEP) stderr += chunk.toString('utf8');
  });
  child.on('error', (err: NodeJS.ErrnoException) => {
    fail(err.code === 'ENOENT' ? transcoderMissing(ffmpegPath) : err);
  });
  pipeline(input, child.stdin, (err) => {
    // EPIPE after ffmpeg quit is reported by its exit status
    if (err && err.code !== 'EPIPE') fail(err);
  });
  child.stdout.pipe(output, { end: false });
  child.on('close', (code, signal) => {
    if (failed) return;
    if (code === 0) {
      output.end();
      return;
    }
    fail(
      new AppError(
        422,
        'transcode_failed',
        `ffmpeg could not decode the AMR audio (exit ${code ?? signal}): ${stderr.trim().slice(0, 300)}; ?format=original serves it as stored`,
      ),
    );
  });
  output.on('close', () => {
    if (!child.killed && child.exitCode === null) child.kill('SIGKILL');
  });
  return output;
}
