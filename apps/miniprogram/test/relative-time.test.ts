import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import { relativeTime, relativeTimeOf, type UtcOffsetAt } from '../miniprogram/pages/history/relative-time.ts';

const CHINA: UtcOffsetAt = () => 480;
const UTC: UtcOffsetAt = () => 0;
/** 2025-03-15 10:30 in China. */
const NOW = Date.parse('2025-03-15T10:30:00+08:00');

function at(local: string): number {
  return Date.parse(`${local}+08:00`);
}

test('under a minute, or in the future from clock skew, is 刚刚', () => {
  assert.equal(relativeTime(NOW, NOW, CHINA), '刚刚');
  assert.equal(relativeTime(NOW - 59_999, NOW, CHINA), '刚刚');
  assert.equal(relativeTime(NOW + 5 * 60_000, NOW, CHINA), '刚刚');
});

test('under an hour counts whole minutes', () => {
  assert.equal(relativeTime(NOW - 60_000, NOW, CHINA), '1 分钟前');
  assert.equal(relativeTime(NOW - 5 * 60_000 - 59_000, NOW, CHINA), '5 分钟前');
  assert.equal(relativeTime(NOW - 59 * 60_000, NOW, CHINA), '59 分钟前');
});

test('earlier the same local day counts whole hours', () => {
  assert.equal(relativeTime(at('2025-03-15T09:30:00'), NOW, CHINA), '1 小时前');
  assert.equal(relativeTime(at('2025-03-15T00:00:00'), NOW, CHINA), '10 小时前');
});

test('the local day before is 昨天, even when less than 24 hours ago', () => {
  assert.equal(relativeTime(at('2025-03-14T23:59:00'), NOW, CHINA), '昨天');
  assert.equal(relativeTime(at('2025-03-14T00:00:00'), NOW, CHINA), '昨天');
});

test('earlier this year is the date; before that with the year', () => {
  assert.equal(relativeTime(at('2025-03-13T23:59:00'), NOW, CHINA), '3月13日');
  assert.equal(relativeTime(at('2025-01-01T00:00:00'), NOW, CHINA), '1月1日');
  assert.equal(relativeTime(at('2024-12-31T23:59:00'), NOW, CHINA), '2024年12月31日');
});

test('days are local days: the same instant is earlier today in China and 昨天 in UTC', () => {
  const now = Date.parse('2025-03-15T01:00:00Z'); // 09:00 on the 15th in China
  const then = Date.parse('2025-03-14T16:30:00Z'); // 00:30 on the 15th in China, the 14th in UTC
  assert.equal(relativeTime(then, now, CHINA), '8 小时前');
  assert.equal(relativeTime(then, now, UTC), '昨天');
});

test('an ISO timestamp is read; an unreadable one is empty', () => {
  assert.equal(relativeTimeOf('2025-03-15T02:25:00.000Z', NOW, CHINA), '5 分钟前');
  assert.equal(relativeTimeOf('yesterday', NOW, CHINA), '');
});
