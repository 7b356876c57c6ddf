import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mp3Info } from '../src/voice/mp3-info.ts';
import { scriptRuns } from '../src/voice/script-runs.ts';
import { pcmDurationMs, readWav, wavFile } from '../src/voice/wav-pcm.ts';
import { SILENT_FRAME_MS, silentMp3 } from './support/fake-youdao-server.ts';

const FORMAT = { sampleRate: 22050, channels: 1, bitsPerSample: 16 };

describe('WAV samples', () => {
  test('a WAV written with exact sizes reads back as the same samples', () => {
    const pcm = Buffer.from(Array.from({ length: 400 }, (_, i) => i % 256));
    const wav = wavFile(FORMAT, pcm);
    assert.deepEqual(readWav(wav), { format: FORMAT, pcm });
    assert.equal(pcmDurationMs(FORMAT, pcm), Math.round((200 / 22050) * 1000));
  });

  test('a piped WAV whose sizes are placeholders runs to the end of its bytes, cut to whole samples', () => {
    const wav = wavFile(FORMAT, Buffer.alloc(1001, 7));
    wav.writeUInt32LE(0x7ffff024, 4);
    wav.writeUInt32LE(0x7ffff000, 40);
    const contents = readWav(wav);
    assert.equal(contents?.pcm.length, 1000);
  });

  test('chunks before the samples are skipped and non-PCM or non-WAV input is refused', () => {
    const plain = wavFile(FORMAT, Buffer.alloc(8, 1));
    const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.alloc(1)]);
    const withList = Buffer.concat([plain.subarray(0, 36), list, plain.subarray(36)]);
    assert.deepEqual(readWav(withList)?.pcm, Buffer.alloc(8, 1));
    const float = Buffer.from(plain);
    float.writeUInt16LE(3, 20);
    assert.equal(readWav(float), undefined);
    assert.equal(readWav(Buffer.from('not a wav file at all')), undefined);
  });
});

describe('MP3 frame walking', () => {
  test('counts frames and their playing time', () => {
    const info = mp3Info(silentMp3(38));
    assert.deepEqual(info, { frames: 38, sampleRate: 44100, durationMs: Math.round(38 * SILENT_FRAME_MS), firstFrameOffset: 0, endOffset: 38 * 417, truncated: false });
  });

  test('skips an ID3v2 tag and does not count an Info header frame', () => {
    const tag = Buffer.concat([Buffer.from('ID3'), Buffer.from([4, 0, 0, 0, 0, 1, 0]), Buffer.alloc(128)]);
    const frames = silentMp3(5);
    // MPEG-1 mono side information is 17 bytes; the Info tag follows it.
    frames.write('Info', 4 + 17, 'latin1');
    const info = mp3Info(Buffer.concat([tag, frames, Buffer.from('TAG trailing id3v1')]));
    assert.equal(info?.firstFrameOffset, 138);
    assert.equal(info?.frames, 4);
  });

  test('bytes that end inside a frame are reported truncated', () => {
    const whole = silentMp3(10);
    assert.equal(mp3Info(whole.subarray(0, whole.length - 100))?.truncated, true);
    assert.equal(mp3Info(whole)?.truncated, false);
  });

  test('bytes that are not MP3 have no info', () => {
    assert.equal(mp3Info(Buffer.from('{"errorCode":"202"}')), undefined);
    assert.equal(mp3Info(Buffer.alloc(0)), undefined);
  });
});

describe('script runs', () => {
  test('Chinese and Latin alternate, neutral characters stay with the run before them', () => {
    assert.deepEqual(scriptRuns('我用 Python 3.12 写代码，很快。', 'zh'), [
      { language: 'zh', text: '我用 ' },
      { language: 'en', text: 'Python 3.12 ' },
      { language: 'zh', text: '写代码，很快。' },
    ]);
  });

  test('leading neutral characters join the first run; a text without letters takes the neutral language', () => {
    assert.deepEqual(scriptRuns('3. Hello 世界', 'zh'), [
      { language: 'en', text: '3. Hello ' },
      { language: 'zh', text: '世界' },
    ]);
    assert.deepEqual(scriptRuns('3.14 + 2', 'zh'), [{ language: 'zh', text: '3.14 + 2' }]);
    assert.deepEqual(scriptRuns('', 'en'), []);
  });

  test('kana, Hangul and full-width forms read with the Chinese-side voice', () => {
    assert.deepEqual(scriptRuns('ＡＢＣかなOK한국', 'zh'), [
      { language: 'zh', text: 'ＡＢＣかな' },
      { language: 'en', text: 'OK' },
      { language: 'zh', text: '한국' },
    ]);
  });
});
