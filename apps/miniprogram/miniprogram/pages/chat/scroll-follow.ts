/**
 * Whether the message list keeps following new text down to the bottom.
 *
 * Contract: following starts on. A scroll that moves up (scrollTop decreases) turns it off at once —
 * the reader wants to look at something, and the next frame must not yank them back down. A scroll that
 * ends near the bottom (within NEAR_BOTTOM_PX), reaching the lower edge, or the "回到底部" button turns
 * it back on. Growth of the content alone never changes it: scroll events arrive late from the view
 * layer, so "far from the bottom" on its own cannot tell a reader's scroll from text that just grew;
 * a decreasing scrollTop can.
 */

export interface ScrollMetrics {
  scrollTop: number;
  scrollHeight: number;
  /** Height of the scroll-view itself. */
  viewportHeight: number;
}

export interface FollowState {
  following: boolean;
  lastScrollTop: number;
}

export const NEAR_BOTTOM_PX = 48;

export function initialFollowState(): FollowState {
  return { following: true, lastScrollTop: 0 };
}

export function isNearBottom(metrics: ScrollMetrics, threshold: number = NEAR_BOTTOM_PX): boolean {
  return metrics.scrollHeight - (metrics.scrollTop + metrics.viewportHeight) <= threshold;
}

export function afterScroll(state: FollowState, metrics: ScrollMetrics): FollowState {
  const movedUp = metrics.scrollTop < state.lastScrollTop - 1;
  const following = movedUp ? false : state.following || isNearBottom(metrics);
  return { following, lastScrollTop: metrics.scrollTop };
}

export function resumeFollowing(state: FollowState): FollowState {
  return { ...state, following: true };
}

/**
 * The next value for the scroll-view's `scroll-into-view`. It only scrolls when the value changes, so
 * the list ends with two empty anchors and each scroll names the other one.
 */
export function nextBottomAnchor(current: string): string {
  return current === 'bottom-a' ? 'bottom-b' : 'bottom-a';
}
