import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OPENAI_SPEECH_VOICES, offeredVoices, parseEspeakVoices } from '../src/voice/offered-voices.ts';

const LISTING = `Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  af              --/M      Afrikaans          gmw/af
 5  cmn             --/M      Chinese_(Mandarin,_latin_as_English) sit/cmn              (zh-cmn 5)(zh 5)
 5  cmn-latn-pinyin --/M      Chinese_(Mandarin,_latin_as_Pinyin) sit/cmn-Latn-pinyin  (zh-cmn 5)(zh 5)
 2  en-us           --/M      English_(America)  gmw/en-US            (en 3)
`;

test('espeak-ng --voices is read as the language names -v accepts, with their alternative names', () => {
  assert.deepEqual(parseEspeakVoices(LISTING), ['af', 'cmn', 'zh-cmn', 'zh', 'cmn-latn-pinyin', 'zh-cmn', 'zh', 'en-us', 'en']);
});

test('each provider offers its default, the configured voice, VOICE_NAMES and what it is known to have', () => {
  const espeak = offeredVoices({ kind: 'espeak', listed: parseEspeakVoices(LISTING) }, { defaultVoice: 'auto', configured: [undefined, 'extra'] });
  assert.deepEqual([...espeak].sort(), ['af', 'auto', 'cmn', 'cmn-latn-pinyin', 'en', 'en-us', 'extra', 'zh', 'zh-cmn']);
  assert.ok(!espeak.has('.') && !espeak.has('..') && !espeak.has('-h'));
  const openai = offeredVoices({ kind: 'openai', officialApi: true }, { defaultVoice: 'alloy', configured: [] });
  for (const voice of OPENAI_SPEECH_VOICES) assert.ok(openai.has(voice), voice);
  assert.deepEqual([...offeredVoices({ kind: 'openai', officialApi: false }, { defaultVoice: 'alloy', configured: ['custom'] })], ['alloy', 'custom']);
  assert.deepEqual([...offeredVoices({ kind: 'youdao' }, { defaultVoice: 'youxiaoqin', configured: ['youxiaoxun'] })], ['youxiaoqin', 'youxiaoxun']);
});
