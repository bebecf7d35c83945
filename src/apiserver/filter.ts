// Label and field selectors compiled into one predicate over objects, as list and watch need.
import type { ResourceType } from '../api/kinds.js';
import { fieldSelectorMatcher, matches, parseFieldSelector, parseLabelSelector } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';

export interface ObjectFilter {
  match(obj: KubeObject): boolean;
  /** True when there is nothing to filter on. */
  everything: boolean;
}

/** Throws a 400 StatusError for malformed selectors or unsupported field labels. */
export function compileFilter(rt: ResourceType, labelSelector?: string, fieldSelector?: string): ObjectFilter {
  const ls = labelSelector ? parseLabelSelector(labelSelector) : undefined;
  const fs = fieldSelector ? fieldSelectorMatcher(rt, parseFieldSelector(fieldSelector)) : undefined;
  if (!ls && !fs) return { everything: true, match: () => true };
  return {
    everything: false,
    match: (obj) => (!ls || matches(ls, obj.metadata.labels ?? {})) && (!fs || fs(obj)),
  };
}
