/**
 * The feature layer of the intent classifier: text → a small set of named, binary features.
 *
 * Two kinds of feature, both plain strings so a model is a map from feature to weights:
 * - **words**: light-stemmed unigrams (`w:test`), bigrams (`b:add_test`) and the leading verb
 *   (`lead:refactor`), which the model learns from labelled goals;
 * - **cues**: hand-written developer vocabulary grouped by intent (`cue:ops-deploy` matches
 *   `docker`, `helm`, `k8s`, `terraform` …). A cue carries a prior weight towards its
 *   intent, so a word no training goal ever used still counts when a cue knows it — this is what
 *   lets a classifier trained on a few hundred goals generalise to the ones it never saw.
 *
 * Everything is compiled once at module load: cue words sit in maps, and only multi-word
 * phrases are regular expressions, tried when no word already fired their cue.
 */
import { Intents, type Intent } from './intents.js';

/** One hand-written cue: developer vocabulary that points at one intent. */
export interface Cue {
  /** Feature name without the `cue:` prefix, e.g. `fix-error`. */
  readonly name: string;
  /** The intent the cue points at. */
  readonly intent: Intent;
  /** The prior weight the cue adds to its intent's score before any training. */
  readonly prior: number;
  /** Short words for a person, used in the classification reason (`quotes an error`). */
  readonly label: string;
}

/** How a cue is written: word lists looked up in a map, regular expressions only for phrases. */
interface CueSource {
  readonly name: string;
  readonly intent: Intent;
  readonly prior: number;
  readonly label: string;
  /** Space-separated words, any of which as the lead word (after fillers) fires the cue. */
  readonly leads?: string;
  /** Space-separated words, any of which anywhere in the text fires the cue. */
  readonly words?: string;
  /** A pattern that must match at the lead word (`please fix …` → at `fix …`). */
  readonly starts?: string;
  /** A pattern that may match anywhere. */
  readonly phrases?: string;
}

/** The features of one text, plus which cues matched (for the reason). */
export interface TextFeatures {
  /** Distinct feature names, in a deterministic order. */
  readonly features: readonly string[];
  /** The cues that matched, in {@link cues} order. */
  readonly cues: readonly Cue[];
  /** The leading content word after fillers (`please`, `can you` …), as written, if any. */
  readonly lead: string | undefined;
  /** Each stem's first spelling in the text (`test` → `tests`), for the reason text. */
  readonly surface: ReadonlyMap<string, string>;
}

const { Plan, Code, Fix, Refactor, Test, Docs, Explain, Review, Ops } = Intents;

// Words are lower-case, apostrophes dropped (`doesn't` → `doesnt`), camelCase and snake_case
// split (`devDependencies` → `dev dependencies`). Patterns see the lower-cased text with its
// punctuation. `String.raw` keeps the regular expressions readable.
const w = String.raw;

/**
 * The hand-written cues, written from general developer vocabulary (commit conventions, issue
 * labels, CI and packaging tools) rather than from the training sample. Their order is the
 * order of the reason text.
 */
const cueSources: readonly CueSource[] = [
  // plan: proposals, designs, multi-step features, "what's the best way to …"
  {
    name: 'plan-proposal', intent: Plan, prior: 1.5, label: 'reads like a design proposal',
    words: 'propose proposes proposal rfc kep',
    phrases: w`\b(?:this|the|our) (?:document|doc|kep|rfc|proposal|enhancement|design)\b|\b(?:we|this \w+) (?:propose|proposes|suggests?)\b`,
  },
  {
    name: 'plan-design', intent: Plan, prior: 1.0, label: 'asks for a design or plan',
    leads: 'plan design propose',
    words: 'design architecture architect roadmap strategy tradeoff tradeoffs milestone milestones phase phases outline brainstorm approach approaches',
    starts: w`(?:think about|figure out how)\b`,
    phrases: w`\btrade-offs?\b|\bhigh[- ]level\b`,
  },
  {
    name: 'plan-best-way', intent: Plan, prior: 1.5, label: 'asks how best to approach it',
    phrases: w`\b(?:best|right|cleanest|simplest|recommended) (?:way|approach|strategy|design)\b|\bpros and cons\b|\bwhat (?:are|would be) (?:the|our) (?:options|alternatives)\b|\bhow (?:would|could) (?:we|i|you) (?:go about|approach|structure|design)\b|\bshould (?:we|i)\b|\bhow should\b|\bwhat would it take\b|\bis it (?:appropriate|a good idea|worth)\b`,
  },
  {
    name: 'plan-want', intent: Plan, prior: 0.6, label: 'states a goal to work towards',
    phrases: w`\b(?:i|we) (?:want|would like|need|plan|intend) to\b|\baims? (?:at|to)\b|\bthe goal is\b`,
  },
  // code: new behaviour
  {
    name: 'code-add', intent: Code, prior: 0.8, label: 'asks to add something',
    leads: 'add adds implement implements introduce introduces support supports create creates build enable enables allow allows expose export exports accept accepts provide provides',
  },
  {
    name: 'code-make', intent: Code, prior: 0.5, label: 'asks to change behaviour',
    leads: 'make makes have let show shows print prints display log logs emit return returns set sets run pass include sort when if only',
  },
  {
    name: 'code-feature', intent: Code, prior: 0.8, label: 'asks for a new option, command or feature',
    phrases: w`\b(?:new|an?) (?:option|flag|switch|param|parameter|argument|arg|command|subcommand|endpoint|route|setting|feature|button|field|column|api|method|hook|prop)\b|\b(?:option|flag|param|parameter|setting|endpoint|command) (?:that|which|for|like)\b|--[a-z][a-z-]+\b|\bsupport (?:for|of)\b`,
  },
  // fix: bugs, errors, failures, symptoms
  {
    name: 'fix-verb', intent: Fix, prior: 1.5, label: 'asks to fix, handle or prevent something',
    leads: 'fix fixes fixed fixing hotfix bugfix repair resolve resolves correct corrects debug patch workaround handle handles prevent prevents avoid avoids ensure ensures guard guards suppress suppresses tighten respect respects preserve preserves restore restores honor honors honour honours',
  },
  {
    name: 'fix-error', intent: Fix, prior: 1.5, label: 'quotes an error or a failure',
    words: 'traceback failed segfault panic panicked uncaught unhandled',
    phrases: w`(?:error|exception|fault|warning)\s*[:(]|\bstack ?trace\b|\bexit (?:code|status) [1-9]|\bcore dumped\b`,
  },
  {
    name: 'fix-bug', intent: Fix, prior: 1.2, label: 'mentions a bug or a crash',
    words: 'bug bugs crash crashes crashed crashing broken regression regressed hang hangs freeze freezes leak leaks mismatch wrong wrongly incorrect incorrectly nan undefined flaky flakiness',
    phrases: w`\bfalse (?:positive|negative)s?\b|\bnull pointer\b|\binfinite loop\b|\boff[- ]by[- ]one\b|\brace condition\b`,
  },
  {
    name: 'fix-symptom', intent: Fix, prior: 1.0, label: 'describes something not working',
    words: 'correctly properly shouldnt doesnt isnt wasnt wont cant didnt arent werent throws thrown unresponsive stuck',
    phrases: w`\b(?:(?:does|do|did|is|are|was|were|wo|ca)n'?t|not|cannot) (?:work|working|worked|being|show|showing|load|loading|render|rendering|called|compile|compiling|start|starting|run|running)\b|\bno longer\b|\bstopped working\b|\bi(?:'m| am) getting\b|\bgetting (?:this|an?|the) (?:error|warning|exception)\b|\binstead of (?:the )?expected\b|\bcomes out\b|\btoo (?:fast|slow|wide|big|small|long|short|many)\b|\bshould not\b|\bwhen (?:\S+ ){0,4}(?:is|are) (?:missing|empty|null|undefined|absent)\b`,
  },
  {
    name: 'fix-problem', intent: Fix, prior: 0.6, label: 'names a problem',
    words: 'error errors fail fails failing failure failures issue issues problem problems unexpected unexpectedly invalid erroneous erroneously glitch misbehaves broke breaks breaking',
    phrases: w`\bexpected (?:\S+ ){0,3}(?:but|got)\b|\bworks? (?:fine|ok) (?:on|in|with) .* but\b`,
  },
  // refactor: structure, not behaviour
  {
    name: 'refactor-verb', intent: Refactor, prior: 1.5, label: 'asks to restructure (refactor, move, rename, simplify …)',
    leads: 'refactor refactors refactoring restructure reorganise reorganize move moves rename renames extract extracts simplify simplifies cleanup tidy inline dedupe deduplicate consolidate split merge unify generalize generalise decouple modernize streamline reduce reuse replace switch swap dry separate isolate drop',
    starts: w`clean up\b`,
  },
  {
    name: 'refactor-structure', intent: Refactor, prior: 1.0, label: 'talks about code structure',
    words: 'refactor refactors refactored refactoring restructure restructured simplify simplified simplification cleanup cleanups deduplicate dedupe internals boilerplate duplication readability maintainability maintainable helper helpers outdated unused redundant legacy obsolete',
    starts: w`(?:do ?n[o']?t|stop) us(?:e|ing)\b`,
    phrases: w`\binto (?:a |an |its own |separate |new )?(?:function|method|helper|class|module|file|constant|constants|variable|component|util|utility)s?\b|\bwithout (?:changing|altering) (?:the )?behaviou?r\b|\bno (?:functional|behaviou?r) change\b|\b(?:duplicated|dead) code\b|\bcode smell\b|\bconstants? (?:for|in)\b|\b(?:change|switch|convert|migrate) (?:\S+ ){1,4}to use\b`,
  },
  {
    name: 'refactor-instead', intent: Refactor, prior: 0.5, label: "uses one thing 'instead of' another",
    phrases: w`\binstead of\b|\brather than\b`,
  },
  {
    name: 'refactor-swap', intent: Refactor, prior: 0.8, label: 'swaps one implementation for another',
    starts: w`(?:use|have|make|switch|change|replace|call)\b.*\b(?:instead of|rather than|in place of)\b|(?:use|reuse|call) (?:the |our |a )?(?:existing |shared |common )?\S+ (?:in|for|inside) \S+$`,
  },
  {
    name: 'refactor-rename', intent: Refactor, prior: 1.5, label: 'renames something',
    leads: 'rename',
    words: 'rename renames renamed renaming',
    starts: w`(?:change|update) [\w.\x60'"]*_[\w.\x60'"]* to [\w.\x60'"]+$`,
  },
  // test
  {
    name: 'test-word', intent: Test, prior: 1.0, label: 'mentions tests',
    words: 'test tests testing testcase testcases spec specs coverage assert asserts assertion assertions mock mocks mocking mocked stub stubs stubbed fixture fixtures jest pytest vitest mocha unittest junit e2e snapshot snapshots playwright cypress tdd',
    phrases: w`\bend-to-end\b`,
  },
  {
    name: 'test-write', intent: Test, prior: 1.5, label: 'asks for a test',
    leads: 'test tests cover',
    phrases: w`\b(?:add|write|make|create|need|more|new|missing) (?:a |an |some |more |the )?(?:unit |integration |e2e |regression )?(?:tests?|test ?cases?|specs?)\b|\btests? (?:for|that|which|like|to check|to ensure)\b`,
  },
  {
    name: 'test-assert', intent: Test, prior: 0.8, label: 'asks to check or assert behaviour',
    phrases: w`.\b(?:make sure|ensure|check|confirm|verify|assert) (?:that|it|only|the|which|whether)\b`,
  },
  // docs
  {
    name: 'docs-word', intent: Docs, prior: 1.2, label: 'mentions docs',
    words: 'doc docs documentation document documented documents readme changelog jsdoc docstring docstrings typo typos spelling grammar wording guide guides tutorial tutorials faq manual link links example examples wiki md describe description translate translation diagram diagrams mermaid note notes policy policies styleguide homepage badge badges license licence copyright contributing contributors sponsor sponsors screenshot screenshots blog usage instructions glossary cheatsheet typedoc sphinx mkdocs docusaurus vitepress',
    phrases: w`\bcode comments?\b|\bhelp text\b|\bstyle guide\b|\bapi reference\b|\b(?:in|to|from) the (?:docs|readme|guide|website|manual)\b|\bcode (?:block|sample|snippet)s?\b|\bcode of conduct\b|\bbroken links?\b|\bdocs? (?:site|page|section)s?\b`,
  },
  {
    name: 'docs-verb', intent: Docs, prior: 1.2, label: 'asks to document or reword',
    leads: 'document documents docs doc reword rephrase clarify clarifies translate proofread describe',
    phrases: w`\b(?:update|improve|fix|write|add) (?:the )?(?:docs|documentation|readme|changelog|comments?|docstrings?|jsdoc|typo|examples?|guide)\b`,
  },
  {
    name: 'docs-object', intent: Docs, prior: 1.5, label: 'changes documentation',
    starts: w`\w+ (?:\S+ ){0,8}?(?:the |a |an |in |to )?(?:docs?|documentation|readme|changelog|jsdoc|docstrings?|comments?|typos?|links?|examples?|guides?|tutorials?|faq|wiki|notes?|diagrams?)\b`,
  },
  // explain: questions about code, no change
  {
    name: 'explain-question', intent: Explain, prior: 1.2, label: 'asks a question',
    // Also fires on a final "?" unless the text asks for work (see `asksForWork`).
    starts: w`(?!(?:can|could) (?:we|i) (?:make|add|change|have|get|update|fix|move|write|create|implement|remove|set|switch)\b)(?:what|why|how|which|where|who|when|is there|are there|does|do|did|is|are|can|could|isn't|doesn't|explain|describe|tell me|walk me through|help me understand)\b`,
  },
  {
    name: 'explain-verb', intent: Explain, prior: 1.5, label: 'asks to explain or describe code',
    words: 'explain explains explained explaining explanation understand',
    phrases: w`\bwhat (?:does|is|are|do)\b|\bhow (?:does|do|do i|can i|to|is|are)\b|\bwhy (?:does|do|is|isn't|doesn't|are|aren't|did)\b|\bdifference between\b|\bwhat(?:'s| is) the (?:purpose|point|meaning)\b|\bis there (?:a|any) (?:way|method|function|api)\b|\bwhere (?:is|are|do|does)\b`,
  },
  // review: critique of an existing change
  {
    name: 'review-word', intent: Review, prior: 1.5, label: 'asks for a review',
    words: 'review reviews reviewed reviewing reviewer reviewers lgtm critique audit feedback nit nits nitpick',
    phrases: w`\b(?:this|the|my|a) (?:pr|pull request|diff|patch|change ?set|merge request)\b|\banaly[sz]e this\b|\blook over\b|\bsanity[- ]check\b|\bsecond (?:look|opinion)\b|\bwhat do you think\b|\b(?:your|any) thoughts\b|\bdouble[- ]check\b|\b(?:check|look at|go over|go through) (?:my|these|this|the) (?:changes?|diff|commits?|implementation)\b|\bdid (?:i|we) miss\b|\bany (?:feedback|suggestions|concerns)\b`,
  },
  {
    name: 'review-doubt', intent: Review, prior: 1.0, label: 'questions whether a change is right',
    words: 'compare identical identically',
    phrases: w`\b(?:will|would|does|did) (?:this|that|it|the fix|that fix|this fix|the change|that change|this change) (?:work|break|affect|handle|fix|cover)\b|\bis (?:it|this|that)(?: change| fix| pr| patch| diff| approach)? (?:safe|correct|right|ok|okay|fine|enough|good)\b|\b(?:right|correct)\?|\bany (?:issues|problems|bugs|concerns)\b|\bdid (?:you|that|this) (?:change|break)\b|\bis there a better way\b|\bwhy (?:did you|does it need|do we need|do you need|is it needed|was this)\b`,
  },
  // ops: build, CI, deploy, dependencies, environment
  {
    name: 'ops-ci', intent: Ops, prior: 1.5, label: 'mentions CI or a pipeline',
    words: 'ci action actions workflow workflows pipeline pipelines job jobs jenkins circleci travis husky renovate dependabot codeowners labeler',
    phrases: w`\bgitlab[- ]ci\b|\bpre-commit\b|\bbuild (?:scripts?|system|step|matrix|config)\b|\bon (?:pull requests|prs|push|every commit|merge|tags?)\b`,
  },
  {
    name: 'ops-deploy', intent: Ops, prior: 1.5, label: 'mentions deploy, containers or infrastructure',
    words: 'deploy deploys deployed deploying deployment deployments docker dockerfile dockerignore container containers image images k8s kubernetes helm terraform ansible nginx serverless lambda cloudformation staging production prod cluster infra infrastructure monitoring benchmark benchmarks',
  },
  {
    name: 'ops-deps', intent: Ops, prior: 1.5, label: 'mentions dependencies, versions or releases',
    leads: 'bump upgrade downgrade pin lock release publish install deploy ship rebuild',
    words: 'bump bumps bumped dependency dependencies deps lockfile pnpm npm yarn pip poetry cargo install installs installed installing installation installer version versions release releases semver',
    phrases: w`\block file\b|\bpackage(?:-lock)?\.json\b|\bnode(?:\.?js)? (?:v?\d+|version)\b|\bpython (?:v?\d|version)\b`,
  },
  {
    name: 'ops-env', intent: Ops, prior: 1.0, label: 'mentions the build or environment',
    words: 'build permissions makefile tsconfig webpack rollup esbuild bundle bundler bundling treeshaking macos windows linux cron secret secrets gitignore gitattributes npmrc nvmrc editorconfig codecov pypi wheel wheels artifact artifacts sourcemap sourcemaps',
    phrases: w`\benv(?:ironment)? var(?:iable)?s?\b|\.env\b|\btree-?shak|\bcache dir\b`,
  },
];

/** The hand-written cues, in reason order. */
export const cues: readonly Cue[] = Object.freeze(
  cueSources.map(({ name, intent, prior, label }) => Object.freeze({ name, intent, prior, label })),
);

// Compiled once: word → cue indexes, lead word → cue indexes, and the phrase patterns.
function indexWords(field: 'leads' | 'words'): ReadonlyMap<string, readonly number[]> {
  const index = new Map<string, number[]>();
  cueSources.forEach((source, i) => {
    for (const word of (source[field] ?? '').split(' ')) {
      if (word === '') continue;
      const list = index.get(word) ?? [];
      if (!list.includes(i)) list.push(i);
      index.set(word, list);
    }
  });
  return index;
}
const cuesByLead = indexWords('leads');
const cuesByWord = indexWords('words');
const startPatterns = cueSources.map((s) => (s.starts === undefined ? undefined : new RegExp(`^(?:${s.starts})`)));
const phrasePatterns = cueSources.map((s) => (s.phrases === undefined ? undefined : new RegExp(s.phrases)));
const questionCue = cueSources.findIndex((s) => s.name === 'explain-question');
// "could you make it faster?" and "can we add a flag?" end with "?" but ask for work.
const asksForWork = new RegExp(
  w`\b(?:can|could|would|will) you\b|\bplease\b|^(?:can|could) (?:we|i) (?:make|add|change|have|get|update|fix|move|write|create|implement|remove|set|switch)\b`,
);

// Words that open a request without saying what it is: dropped before finding the lead word.
const fillers = new Set([
  'please', 'pls', 'plz', 'ok', 'okay', 'now', 'also', 'then', 'so', 'just', 'and', 'hey', 'hi',
  'great', 'nice', 'thanks', 'cool', 'good', 'yes', 'no', 'but', 'next', 'lets', 'let', 'us',
  'can', 'could', 'would', 'will', 'you', 'go', 'ahead', 'i', 'want', 'need', 'we', 'to',
  'kindly', 'quickly', 'first', 'finally', 'actually', 'it', 'works', 'hmm', 'alright', 'right',
]);

// The question words: a question that starts "can you …" is a request, "can …" alone a question.
const questionOpeners = new Set(['can', 'could', 'would', 'will']);

// A leading "in `fn`, …" / "for the CLI, …" says where, not what: the lead word follows it.
const locationClause = /^(?:in|inside|within|for|on) [^,]{1,60}, /;
const camelBoundary = /([a-z0-9])([A-Z])/g;
const mention = /@[\w-]+/g;
const spaceRun = /\s{2,}|[\t\n\r\f\v]/g;

/**
 * Lower-cases the text, splits camelCase and snake_case identifiers into words and drops
 * mentions (`@bot`). Returns the words and the text from the lead word on (`body`), which is
 * what cue patterns anchored with `^` see.
 */
export function normalizeText(text: string): { words: string[]; leadIndex: number; body: string; full: string } {
  const full = text.replace(camelBoundary, '$1 $2').toLowerCase().replace(mention, ' ').replace(spaceRun, ' ').trim();
  // Words are runs of [a-z0-9'], apostrophes dropped; one pass, no regular expression.
  const words: string[] = [];
  const offsets: number[] = [];
  let word = '';
  let start = -1;
  for (let i = 0; i <= full.length; i += 1) {
    const c = i < full.length ? full.charCodeAt(i) : 32;
    const isWordChar = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (isWordChar) {
      if (start < 0) start = i;
      word += full[i]!;
    } else if (c === 39 && start >= 0) {
      continue;
    } else if (start >= 0) {
      if (word.length > 0) {
        words.push(word);
        offsets.push(start);
      }
      word = '';
      start = -1;
    }
  }
  let leadIndex = 0;
  const clause = locationClause.exec(full);
  if (clause !== null) {
    const end = clause[0].length;
    while (leadIndex < words.length - 1 && offsets[leadIndex]! < end) leadIndex += 1;
  }
  // "can you fix …" → lead "fix"; "can we use X for Y?" → keep "can", it is a question.
  while (leadIndex < words.length - 1 && fillers.has(words[leadIndex]!)) {
    if (questionOpeners.has(words[leadIndex]!) && words[leadIndex + 1] !== 'you') break;
    leadIndex += 1;
  }
  const body = leadIndex > 0 ? full.slice(offsets[leadIndex]) : full;
  return { words, leadIndex, body, full };
}

const digit = /\d/;
const keepsFinalS = /(?:ss|us|is)$/;
const pluralEs = /(?:sses|xes|ches|shes)$/;

/** A deliberately small stemmer: plurals and -ing/-ed, enough to merge `tests`/`testing`/`test`. */
export function stem(word: string): string {
  if (word.length <= 3 || digit.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (keepsFinalS.test(word)) return word;
  if (pluralEs.test(word)) return word.slice(0, -2);
  if (word.endsWith('s')) return word.slice(0, -1);
  if (word.endsWith('ing') && word.length > 5) return word.slice(0, -3);
  if (word.endsWith('ed') && word.length > 4) return word.slice(0, -2);
  return word;
}

// Beyond this many words the tail of a long text (a stack trace, a pasted file) adds noise.
const MAX_WORDS = 60;
// A goal longer than this is cut first: its intent is stated up front, and the cut bounds the
// time of one call (the longest corpus goal has 325 characters).
const MAX_CHARS = 600;

/** Extracts the features of one text. Pure and deterministic. */
export function extractFeatures(text: string): TextFeatures {
  const { words, leadIndex, body, full } = normalizeText(text.length > MAX_CHARS ? text.slice(0, MAX_CHARS) : text);
  const seen = new Set<string>();
  const features: string[] = [];
  const add = (name: string): void => {
    if (!seen.has(name)) {
      seen.add(name);
      features.push(name);
    }
  };
  const kept = words.slice(0, MAX_WORDS);
  const stems = kept.map(stem);
  const surface = new Map<string, string>();
  stems.forEach((s, i) => {
    if (!surface.has(s)) surface.set(s, kept[i]!);
  });
  for (let i = 0; i < stems.length; i += 1) {
    add(`w:${stems[i]!}`);
    if (i + 1 < stems.length) add(`b:${stems[i]!}_${stems[i + 1]!}`);
  }
  const lead = stems[leadIndex];
  if (lead !== undefined) add(`lead:${lead}`);
  if (full.endsWith('?')) add('shape:question');
  if (stems.length <= 4) add('shape:short');
  else if (stems.length > 30) add('shape:long');
  const hit = new Uint8Array(cues.length);
  const leadWord = words[leadIndex];
  if (leadWord !== undefined) for (const i of cuesByLead.get(leadWord) ?? []) hit[i] = 1;
  for (const word of words) {
    const found = cuesByWord.get(word);
    if (found !== undefined) for (const i of found) hit[i] = 1;
  }
  if (full.endsWith('?') && !asksForWork.test(full)) hit[questionCue] = 1;
  const matched: Cue[] = [];
  for (let i = 0; i < cues.length; i += 1) {
    if (hit[i] === 0 && (startPatterns[i]?.test(body) === true || phrasePatterns[i]?.test(full) === true)) hit[i] = 1;
    if (hit[i] === 1) {
      matched.push(cues[i]!);
      add(`cue:${cues[i]!.name}`);
    }
  }
  return { features, cues: matched, lead: kept[leadIndex], surface };
}

/** The prior weight vector of every cue feature, by feature name, in `intents` order. */
export function cuePriors(intents: readonly Intent[]): Map<string, number[]> {
  const priors = new Map<string, number[]>();
  for (const c of cues) {
    priors.set(
      `cue:${c.name}`,
      intents.map((intent) => (intent === c.intent ? c.prior : 0)),
    );
  }
  return priors;
}
