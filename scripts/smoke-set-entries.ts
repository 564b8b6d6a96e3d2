// The smoke set's faces and why each label is known (issue 24, item 4). Pinned to upstream commits so a
// rebuild gives the same files. Labels:
// - gender "title": the photo's own title at its source (inter-faces CREDITS.md links) names a man or a
//   woman; "annotator": no source statement, labelled by appearance when this set was made, as FairFace's
//   and RAF-DB's annotators did; "identity": the person is named at the source;
// - emotion: only where clear to the annotator (a broad smile = happy, a closed relaxed face = neutral);
//   blank otherwise (turned, covered, ambiguous);
// - age: only where the birth date and the photo date are both known (the four 1964 portraits).
export interface SmokeSource {
  repo: string;
  commit: string;
  licence: string;
  /** Where the repository states the licence. */
  licenceWhere: string;
}

export const SOURCES = {
  interfaces: {
    repo: 'cjdowner/interfaces',
    commit: '2166b2273fd050699e112e95a251f0519cce58c3',
    licence: 'CC0-1.0',
    licenceWhere: 'README.md "License": all avatars are licensed under CC0; CREDITS.md links each original photo',
  },
  bsplus: {
    repo: 'ijlyttle/bsplus',
    commit: '1509173e8fecd7c88a19c67357dec998aef9c59d',
    licence: 'public domain',
    licenceWhere: 'vignettes/img/README.md: "Each of the source images is in the public domain" (Wikimedia Commons originals)',
  },
} satisfies Record<string, SmokeSource>;

export interface SmokeEntry {
  source: keyof typeof SOURCES;
  path: string;
  gender: 'male' | 'female';
  genderFrom: 'title' | 'annotator' | 'identity';
  emotion?: 'happy' | 'neutral';
  age?: string;
  /** Why the age is known. */
  ageWhy?: string;
}

// inter-faces "256 x 256/NNN.jpg": [number, gender, genderFrom, emotion]. Left out: 003 (camera over
// the face), 017 (profile, face up), 019 and 024 (face hidden under a hat or cap, looking down).
const M = 'male' as const;
const F = 'female' as const;
const T = 'title' as const;
const A = 'annotator' as const;
const H = 'happy' as const;
const N = 'neutral' as const;
type Row = [number, typeof M | typeof F, typeof T | typeof A, (typeof H | typeof N)?];
const INTERFACES: Row[] = [
  [1, F, T, N],
  [2, M, T, H],
  [4, M, T, H],
  [5, F, T],
  [6, M, T],
  [7, F, T],
  [8, M, T],
  [9, F, T, H],
  [10, M, T, H],
  [11, F, T],
  [12, M, A],
  [13, F, T, N],
  [14, M, T, H],
  [15, F, T, H],
  [16, M, T],
  [18, M, T],
  [20, M, A],
  [21, F, A, N],
  [22, M, A, H],
  [23, F, T],
  [25, F, T],
  [26, M, A],
  [27, F, T, N],
  [28, M, T, N],
  [29, F, T, N],
  [30, M, T, H],
  [31, F, T, H],
  [32, M, T],
  [33, M, T, N],
  [34, F, A, H],
  [35, F, A],
  [36, F, T, H],
  [37, M, T, H],
  [38, F, A, H],
  [39, F, T],
  [40, M, T, N],
  [41, F, T],
  [42, F, T, N],
  [43, M, T, N],
  [44, F, A, H],
  [45, M, A],
  [46, F, A],
  [47, M, T, H],
  [48, M, T, N],
  [49, F, T, H],
  [50, M, T],
  [51, M, A, N],
  [52, F, T, H],
  [53, M, T, N],
  [54, F, A, N],
  [55, F, A],
  [56, F, A, N],
  [57, F, A, N],
  [58, F, A, N],
  [59, F, A],
  [60, M, A],
  [61, M, A, N],
  [62, M, A],
  [63, M, A],
  [64, M, A],
  [65, M, A],
  [66, M, A, N],
  [67, M, A, H],
  [68, F, A, N],
  [69, F, A, H],
  [70, F, A, N],
  [71, M, A, H],
  [72, M, A],
  [73, M, A, N],
  [74, M, A, N],
  [75, F, A],
  [76, F, A, N],
  [77, M, A],
  [78, F, A, H],
  [79, M, A, H],
  [80, F, A, N],
  [81, F, A],
  [82, M, T, N],
  [83, F, T, N],
  [84, M, A, N],
  [85, F, A, N],
  [86, M, A, N],
  [87, M, A, N],
  [88, F, A, H],
  [89, M, A, H],
  [90, M, A, N],
  [91, M, A, N],
  [92, M, A, N],
  [93, F, A, N],
  [94, F, A, N],
  [95, M, A, N],
  [96, F, A, N],
  [97, M, A, H],
  [98, F, A, H],
  [99, M, A, N],
  [100, M, A, N],
];

// The Beatles' arrival in New York, February 1964 (the Commons file names say "NY 1964"): ages from
// their birth dates, 20–23 whichever day of 1964 — all 20-29.
const BEATLES: [string, string][] = [
  ['john', 'born 9 Oct 1940, photo NY 1964: 23'],
  ['paul', 'born 18 Jun 1942, photo NY 1964: 21'],
  ['george', 'born 25 Feb 1943, photo NY 1964: 20 or 21'],
  ['ringo', 'born 7 Jul 1940, photo NY 1964: 23 or 24'],
];

export const ENTRIES: SmokeEntry[] = [
  ...INTERFACES.map(([n, gender, genderFrom, emotion]) => ({
    source: 'interfaces' as const,
    path: `256 x 256/${String(n).padStart(3, '0')}.jpg`,
    gender,
    genderFrom,
    ...(emotion ? { emotion } : {}),
  })),
  ...BEATLES.map(([name, ageWhy]) => ({
    source: 'bsplus' as const,
    path: `vignettes/img/${name}.jpg`,
    gender: M,
    genderFrom: 'identity' as const,
    age: '20-29',
    ageWhy,
  })),
];
