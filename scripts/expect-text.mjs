/** How the docs scripts write an expectation's body state. */

/** The body state when it says something: a cut body, or an empty or uncertain one behind a success status. */
export function bodyText(e, lead, always = false) {
  if (e.body === undefined) return '';
  const bodies = Array.isArray(e.body) ? e.body : [e.body];
  if (always) return `${lead}${bodies.join(' or ')}`;
  const success = typeof e.status === 'number' && e.status < 300;
  if (bodies.includes('truncated') || (success && !(bodies.length === 1 && bodies[0] === 'complete'))) return `${lead}${bodies.join(' or ')}`;
  return '';
}
