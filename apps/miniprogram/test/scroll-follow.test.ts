import assert from 'node:assert/strict';
import { test } from '@jest/globals';
import {
  afterScroll,
  initialFollowState,
  isNearBottom,
  nextBottomAnchor,
  resumeFollowing,
  NEAR_BOTTOM_PX,
} from '../miniprogram/pages/chat/scroll-follow.ts';

test('the list starts out following new text', () => {
  assert.equal(initialFollowState().following, true);
});

test('near the bottom means within the threshold of the end of the content', () => {
  assert.equal(isNearBottom({ scrollTop: 1000 - 600 - NEAR_BOTTOM_PX, scrollHeight: 1000, viewportHeight: 600 }), true);
  assert.equal(isNearBottom({ scrollTop: 1000 - 600 - NEAR_BOTTOM_PX - 1, scrollHeight: 1000, viewportHeight: 600 }), false);
});

test('scrolling up stops following even while still near the bottom', () => {
  const atBottom = afterScroll(initialFollowState(), { scrollTop: 400, scrollHeight: 1000, viewportHeight: 600 });
  assert.equal(atBottom.following, true);
  const nudgedUp = afterScroll(atBottom, { scrollTop: 380, scrollHeight: 1000, viewportHeight: 600 });
  assert.equal(nudgedUp.following, false);
});

test('a late scroll event while text grows does not stop following', () => {
  const state = afterScroll(initialFollowState(), { scrollTop: 400, scrollHeight: 1000, viewportHeight: 600 });
  // The content grew by 500px before this event (from our own scroll) arrived: far from the bottom, but not moving up.
  const late = afterScroll(state, { scrollTop: 400, scrollHeight: 1500, viewportHeight: 600 });
  assert.equal(late.following, true);
});

test('scrolling back down to the bottom resumes following', () => {
  const away = afterScroll({ following: true, lastScrollTop: 900 }, { scrollTop: 200, scrollHeight: 1500, viewportHeight: 600 });
  assert.equal(away.following, false);
  const halfway = afterScroll(away, { scrollTop: 600, scrollHeight: 1500, viewportHeight: 600 });
  assert.equal(halfway.following, false);
  const back = afterScroll(halfway, { scrollTop: 890, scrollHeight: 1500, viewportHeight: 600 });
  assert.equal(back.following, true);
});

test('the jump button resumes following wherever the list is', () => {
  assert.equal(resumeFollowing({ following: false, lastScrollTop: 10 }).following, true);
});

test('the bottom anchor alternates so every scroll request changes scroll-into-view', () => {
  const first = nextBottomAnchor('');
  const second = nextBottomAnchor(first);
  assert.notEqual(first, second);
  assert.equal(nextBottomAnchor(second), first);
});
