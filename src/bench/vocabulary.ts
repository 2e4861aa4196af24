/**
 * The fixed word and name material of the synthetic corpus. It does not depend
 * on the generator's seed, so queries generated with any seed hit the words of
 * any generated corpus.
 */
import { Rng, hash32 } from './prng.js';

/** Function words, most frequent first; they take the top Zipf ranks as in real prose. */
export const STOP_WORDS: readonly string[] = [
  'the', 'of', 'and', 'a', 'in', 'to', 'we', 'is', 'for', 'that', 'with', 'on', 'by', 'this',
  'as', 'are', 'an', 'be', 'from', 'which', 'at', 'our', 'these', 'can', 'it', 'show', 'using',
  'has', 'have', 'their', 'such', 'both', 'between', 'also', 'been', 'its', 'not', 'new',
  'two', 'than', 'more', 'into', 'under', 'when', 'where', 'while',
];

/**
 * Real scientific words, roughly most frequent first, so that common query
 * terms look like what people type. Placed among the pseudo-words by `buildVocabulary`.
 */
export const SCIENCE_WORDS: readonly string[] = `
model results method data paper approach network learning models problem time based
performance field quantum energy systems system analysis function theory algorithm
framework study structure state neural training proposed information graph large
dynamics methods deep distribution order space properties language evidence
experiments mass parameters images task dataset optimization linear effect spin
states phase temperature estimation classification representation efficient
robust features low high scale surface magnetic dark matter galaxies stars black
hole gravitational waves equation equations solutions boundary nonlinear stochastic
random matrix operator group algebra manifold geometry topology invariant
symmetry gauge string holographic entropy thermal transport electron electronic
optical laser photon cavity lattice crystal topological superconducting
insulator semiconductor magnetization ferromagnetic antiferromagnetic
interaction interactions coupling coupled scattering decay neutrino higgs
collider detector measurement measurements observations observational survey
simulation simulations numerical computational convergence bounds bound
complexity polynomial approximation regression inference bayesian posterior
prior likelihood sampling sample samples variance estimator estimators causal
reinforcement policy agent agents reward transformer attention embedding
embeddings pretrained generative diffusion adversarial supervised unsupervised
contrastive segmentation detection recognition tracking retrieval translation
speech text semantic knowledge reasoning benchmark benchmarks evaluation
generalization adaptation transfer federated privacy security attack attacks
robustness fairness interpretability explainable uncertainty calibration
clustering kernel sparse low-rank tensor convex nonconvex gradient descent
stochastic-gradient momentum regularization loss objective constraint
constraints scheduling wireless channel channels antenna mimo beamforming
spectrum signal signals noise filter filtering control controller feedback
stability stable trajectory robot robotic navigation planning manipulation
vehicle autonomous sensor sensors protein proteins gene expression cell cells
tissue brain neurons neuronal cortex cognitive clinical patients disease
medical imaging tumor epidemic infection population evolutionary species
ecological market financial price pricing volatility risk portfolio economic
policy-making equilibrium game games auction mechanism voting social networks
community communities graphs vertices edges vertex edge tree trees cycle
coloring hypergraph combinatorial prime primes modular elliptic curves curve
surfaces varieties cohomology homology sheaves category functor categories
modules rings ideal ideals polynomials integrable hamiltonian lagrangian
quantization supersymmetric supersymmetry conformal anomaly anomalies
inflation cosmological cosmology redshift halo halos accretion jet jets
pulsar pulsars supernova supernovae exoplanet exoplanets planetary stellar
solar corona plasma turbulence turbulent flow flows fluid viscous vortex
convection diffusion-limited heat wave wavelength frequency resonance
resonant oscillations oscillator oscillators chaos chaotic bifurcation
synchronization percolation critical criticality universality renormalization
monte-carlo carlo ising hubbard fermions bosons fermionic bosonic condensate
superfluid entanglement qubit qubits decoherence quantum-computing circuit
circuits error-correction fidelity photonic metamaterial graphene nanowire
nanoparticles thin films film strain elastic dislocation fracture alloy
alloys catalyst catalytic molecular molecules atoms atomic ion ions
spectroscopy spectra spectral absorption emission luminosity photometric
telescope radio x-ray gamma-ray cosmic-ray muon hadron hadronic quark quarks
gluon lattice-qcd perturbative nonperturbative amplitude amplitudes
scattering-amplitudes dispersion relativistic relativity spacetime metric
curvature geodesic wormhole horizon hawking radiation dark-energy baryon
baryonic neutron proton nuclei nuclear fission fusion reactor isotope
compiler software program programs verification formal logic semantics type
types database query queries index indexing storage distributed parallel
cloud scheduling-policy latency throughput memory cache hardware energy-efficient
blockchain consensus protocol protocols cryptographic encryption
authentication malware vulnerability code repository open-source dataset-scale
annotation annotated corpus corpora multilingual dialogue summarization
question answering chatbot instruction alignment hallucination prompting
prompt fine-tuning tokenization vocabulary visual video point cloud lidar
depth stereo pose reconstruction rendering radiance super-resolution denoising
compression codec quantization-aware pruning distillation efficient-inference
`.trim().split(/\s+/);

/** Short words that Title Case leaves lowercase, also used to join title phrases. */
export const TITLE_CONNECTORS: readonly string[] = ['of', 'for', 'with', 'in', 'and', 'on', 'via', 'the', 'a', 'to', 'from', 'under'];

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'cr', 'dr', 'gr', 'pr', 'tr', 'st', 'ch', 'th', 'ph', 'pl', 'cl', 'sc', ''];
const NUCLEI = ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'i', 'o', 'ia', 'io', 'ou', 'y'];
const CODAS = ['', '', '', '', '', '', 'n', 'r', 's', 'l', 't', 'm', 'x'];
const SUFFIXES = ['ion', 'ity', 'al', 'ic', 'ive', 'ous', 'ment', 'ance', 'ism', 'ar', 'ent', 'ology', 'on', 'ics', 'oid', 'ine', 'ate'];

function syllable(rng: Rng): string {
  return rng.pick(ONSETS) + rng.pick(NUCLEI) + rng.pick(CODAS);
}

/** A pronounceable made-up word of 2-4 syllables (4-12 letters), sometimes with a scientific suffix. */
export function pseudoWord(rng: Rng): string {
  for (;;) {
    const n = 2 + rng.weighted([55, 40, 5]);
    let w = '';
    for (let i = 0; i < n; i++) w += syllable(rng);
    if (rng.chance(0.35)) w += rng.pick(SUFFIXES);
    if (w.length >= 4 && w.length <= 12) return w;
  }
}

/** The corpus vocabulary: `words[r]` is the word of Zipf rank r (0 = most frequent). */
export interface Vocabulary {
  words: readonly string[];
  /** Ranks below this are function words (skipped by titles and queries). */
  stopCount: number;
}

/** Seed of the default vocabulary; other corpus profiles pass their own. */
export const VOCAB_SEED = 0x5eed_0001;
/** Number of pseudo-words appended to the real ones. */
export const PSEUDO_WORDS = 50_000;

const cachedVocabularies = new Map<number, Vocabulary>();

/**
 * Builds the ranked vocabulary of `seed` once per process. Real words are
 * spread over the head (densely at the top, thinning out by rank ~3,700) so
 * common queries use real words, while the long tail is made-up words, as rare
 * terms are in real abstracts (names, acronyms, compounds).
 *
 * A seed other than the default also shuffles the order of the real words, so
 * another profile's most frequent content words are different words, not only
 * a different made-up tail. The default seed keeps the listed order: cached
 * corpora and the bench's own queries depend on it.
 */
export function buildVocabulary(seed: number = VOCAB_SEED): Vocabulary {
  const cached = cachedVocabularies.get(seed);
  if (cached) return cached;
  const rng = new Rng(seed);
  const seen = new Set<string>([...STOP_WORDS, ...SCIENCE_WORDS, ...TITLE_CONNECTORS]);
  const pseudo: string[] = [];
  while (pseudo.length < PSEUDO_WORDS) {
    const w = pseudoWord(rng);
    if (w.length < 4 || seen.has(w)) continue;
    seen.add(w);
    pseudo.push(w);
  }
  const science = [...new Set(SCIENCE_WORDS)];
  if (seed !== VOCAB_SEED) shuffle(science, rng);
  const words: string[] = [...STOP_WORDS];
  const stopCount = words.length;
  let j = 0;
  let p = 0;
  while (j < science.length || p < pseudo.length) {
    const rank = words.length;
    const nextScienceRank = stopCount + j + Math.floor(0.02 * j * j);
    if (j < science.length && rank >= nextScienceRank) words.push(science[j++] as string);
    else if (p < pseudo.length) words.push(pseudo[p++] as string);
    else words.push(science[j++] as string);
  }
  const vocabulary = { words, stopCount };
  cachedVocabularies.set(seed, vocabulary);
  return vocabulary;
}

/** Fisher-Yates, in place. */
function shuffle<T>(items: T[], rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const k = rng.int(i + 1);
    const t = items[i] as T;
    items[i] = items[k] as T;
    items[k] = t;
  }
}

// --- names -----------------------------------------------------------------

const FORENAMES: readonly string[] = `
James John Robert Michael William David Richard Joseph Thomas Charles Daniel Matthew
Anthony Mark Paul Steven Andrew Kenneth Joshua Kevin Brian George Timothy Ronald
Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin
Scott Benjamin Samuel Gregory Alexander Patrick Frank Raymond Jack Dennis Jerry Tyler
Aaron Henry Adam Nathan Peter Zachary Kyle Walter Harold Jeremy Ethan Carl Keith
Roger Gerald Christian Terry Sean Arthur Austin Noah Lawrence Jesse Joe Bryan Billy
Jordan Albert Dylan Bruce Willie Gabriel Alan Juan Logan Wayne Ralph Roy Eugene
Randy Vincent Russell Louis Philip Bobby Johnny Bradley Mary Patricia Jennifer Linda
Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa Margaret Betty Sandra Ashley
Dorothy Kimberly Emily Donna Michelle Carol Amanda Melissa Deborah Stephanie Rebecca
Laura Sharon Cynthia Kathleen Amy Shirley Angela Helen Anna Brenda Pamela Nicole
Samantha Katherine Emma Ruth Christine Catherine Debra Rachel Carolyn Janet Virginia
Maria Heather Diane Julie Joyce Victoria Kelly Christina Lauren Joan Evelyn Olivia
Judith Megan Cheryl Martha Andrea Frances Hannah Jacqueline Ann Gloria Jean Kathryn
Alice Teresa Sara Janice Doris Madison Julia Grace Judy Abigail Marie Denise Beverly
Wei Jing Li Yang Hui Xin Jun Lei Yan Ying Hao Jie Ming Tao Qiang Bo Chao Feng Lin Yu
Xiaoming Zhiwei Hongjun Yifan Zihan Haoran Yuxuan Jiahao Ruiqi Shuai Kai Zhen Hiroshi
Takashi Kenji Yuki Satoshi Akira Haruto Sakura Yuto Daisuke Naoki Min-jun Ji-hoon
Seo-yeon Hyun Sung Jae Raj Amit Rahul Priya Anil Sanjay Vijay Suresh Deepak Arjun
Aditya Ananya Kavya Rohan Vikram Sunil Pooja Neha Ravi Mohammed Ahmed Ali Omar Fatima
Hassan Yusuf Mehmet Mustafa Elif Zeynep Ivan Dmitry Sergei Alexei Andrei Nikolai
Olga Natalia Tatiana Irina Elena Pavel Mikhail Yuri Vladimir Anastasia Giovanni
Marco Luca Francesco Alessandro Matteo Giulia Chiara Paolo Stefano Lorenzo Pierre
Jean-Pierre Francois Nicolas Julien Camille Antoine Mathieu Claire Sophie Hans
Klaus Stefan Wolfgang Matthias Tobias Lukas Katharina Johannes Florian Carlos Jose
Luis Miguel Javier Pablo Sergio Alejandro Diego Lucia Carmen Joao Pedro Rafael
Lars Erik Magnus Ingrid Astrid Jan Pieter Maarten Sven Tomasz Piotr Krzysztof
Katarzyna Agnieszka Jakub Nguyen Minh Thanh Kwame Chinedu Oluwaseun Amara Tendai
`.trim().split(/\s+/);

/** Forenames written with TeX accents, as arXiv author lists carry them. */
const TEX_FORENAMES: readonly string[] = [
  "Fran\\c{c}ois", "J\\'er\\^ome", "Ren\\'e", "Andr\\'e", "Jos\\'e", "Jo\\~ao", "J\\\"urgen",
  "Bj\\\"orn", "S\\o{}ren", "Ra\\'ul", "In\\'es", "Zo\\'e", "Ma\\l{}gorzata", "G\\'abor", "Ond\\v{r}ej",
];

const SURNAMES: readonly string[] = `
Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore
Martin Jackson Thompson White Harris Clark Lewis Robinson Walker Young Allen King
Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner Phillips
Campbell Parker Evans Edwards Collins Stewart Morris Murphy Cook Rogers Morgan Cooper
Peterson Reed Bailey Bell Kelly Howard Ward Cox Richardson Wood Watson Brooks Bennett
Gray Hughes Price Sanders Myers Long Ross Foster Wang Li Zhang Liu Chen Yang Huang
Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng Liang Xie Song Tang Han Feng
Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du Ye Cheng Wei Su Lu Ding
Ren Shen Yao Kim Lee Park Choi Jung Kang Cho Yoon Jang Lim Tanaka Suzuki Takahashi
Watanabe Ito Yamamoto Nakamura Kobayashi Kato Yoshida Yamada Sasaki Yamaguchi
Matsumoto Inoue Kimura Hayashi Shimizu Nguyen Tran Le Pham Hoang Vu Kumar Singh
Sharma Gupta Patel Reddy Rao Iyer Nair Mehta Joshi Shah Verma Mishra Agarwal
Chatterjee Banerjee Mukherjee Das Bose Ghosh Khan Ahmed Hussain Rahman Malik Yilmaz
Kaya Demir Ivanov Petrov Smirnov Kuznetsov Popov Sokolov Lebedev Kozlov Novikov
Morozov Volkov Pavlov Semenov Rossi Russo Ferrari Esposito Bianchi Romano Colombo
Ricci Marino Greco Bruno Gallo Conti Mancini Costa Giordano Martin Bernard Dubois
Durand Lefebvre Leroy Moreau Simon Laurent Michel Garcia Fournier Girard Bonnet
Lambert Fontaine Rousseau Vincent Muller Schmidt Schneider Fischer Weber Meyer
Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Neumann Schwarz Zimmermann
Braun Hofmann Hartmann Lange Schmitt Werner Krause Lehmann Rodriguez Martinez
Hernandez Lopez Gonzalez Perez Sanchez Ramirez Torres Flores Rivera Gomez Diaz
Morales Ortiz Gutierrez Ruiz Alvarez Castillo Jimenez Moreno Romero Silva Santos
Oliveira Souza Pereira Ferreira Almeida Carvalho Ribeiro Andersson Johansson
Karlsson Nilsson Eriksson Larsson Olsson Persson Hansen Nielsen Jensen Pedersen
Berg Haugen Jansen Visser Smit Bakker Nowak Kowalski Wisniewski Wojcik Kaminski
Lewandowski Zielinski Szymanski Novak Horvat Kovac Nagy Toth Szabo Papadopoulos
Georgiou Cohen Levi Friedman Katz Okafor Mensah Adeyemi Mwangi Okonkwo Abubakar
`.trim().split(/\s+/);

/** Surnames with TeX accents, in the forms arXiv's free-text author lists use. */
const TEX_SURNAMES: readonly string[] = [
  'M\\"uller', 'M\\"{u}ller', 'Sch\\"afer', 'J\\"ager', 'K\\"onig', 'Kr\\"uger', 'G\\"unther',
  'Schr\\"oder', 'M\\"oller', 'B\\"ohm', 'H\\"ubner', 'Z\\"ollner', "Garc\\'ia", "Mart\\'inez",
  "L\\'opez", "G\\'omez", "Jim\\'enez", "Hern\\'andez", "Rodr\\'iguez", "P\\'erez", "S\\'anchez",
  "Fern\\'andez", "Gonz\\'alez", "Ram\\'irez", "Bal\\'azs", "Nov\\'ak", "Dvo\\v{r}\\'ak",
  "Erd\\H{o}s", "Nu\\~nez", "Mu\\~noz", "Pe\\~na", "Ordo\\~nez", "Fran\\c{c}a", "Gon\\c{c}alves",
  "Lef\\`evre", "Cr\\'epeau", "B\\'ela", "{\\O}stergaard", "Djokovi\\'{c}", "{\\v S}tefan\\v{c}i\\v{c}",
  "Ho{\\ss}feld", "Ak\\c{c}ay", "Y\\i{}ld\\i{}z",
];

const PARTICLES = ['van', 'van der', 'van den', 'de', 'de la', 'von', 'von der', 'da', 'di', 'del', 'dos', 'le'];
const SUFFIXES_NAME = ['Jr.', 'II', 'III'];

const COMBINING: Record<string, string> = {
  '"': '\u0308',
  "'": '\u0301',
  '`': '\u0300',
  '^': '\u0302',
  '~': '\u0303',
  '=': '\u0304',
  '.': '\u0307',
  c: '\u0327',
  v: '\u030c',
  H: '\u030b',
  u: '\u0306',
};
const LETTER_MACROS: Record<string, string> = {
  o: 'ø', O: 'Ø', ss: 'ß', l: 'ł', L: 'Ł', aa: 'å', AA: 'Å', ae: 'æ', i: 'ı',
};

/**
 * Decodes the TeX accent forms used in this module (`\"u`, `\"{u}`, `{\"u}`,
 * `\v{r}`, `{\v S}`, `\o{}`, `{\ss}`) to Unicode, as Kaggle's authors_parsed does.
 */
export function texAccentsToUnicode(s: string): string {
  if (!s.includes('\\')) return s;
  return s
    .replace(/\\(["'`^~=.])\{?([A-Za-z])\}?|\\([cvHu])(?:\{([A-Za-z])\}|\s+([A-Za-z]))/g, (_m, a1: string | undefined, l1: string | undefined, a2: string | undefined, l2: string | undefined, l3: string | undefined) => {
      const accent = (a1 ?? a2) as string;
      const letter = (l1 ?? l2 ?? l3) as string;
      return (letter + (COMBINING[accent] ?? '')).normalize('NFC');
    })
    .replace(/\\(ss|aa|AA|ae|o|O|l|L|i)(?![A-Za-z])(\{\})?/g, (_m, name: string) => LETTER_MACROS[name] ?? name)
    .replace(/[{}]/g, '');
}

/** One author of the pool, in the forms the Kaggle record needs. */
export interface PoolAuthor {
  /** Forenames as written in the free-text list (TeX kept), e.g. `E. L.` or `Tracy L.`. */
  forenames: string;
  /** Keyname (surname with particle) as written, TeX kept. */
  keyname: string;
  suffix: string;
  /** authors_parsed forms: Unicode, Kaggle's spacing of hyphenated initials. */
  parsedForenames: string;
  parsedKeyname: string;
  /** Full name as a submitter would give it (Unicode, full first forename). */
  fullName: string;
}

function pseudoSurname(rng: Rng): string {
  let w = '';
  while (w.length < 4 || w.length > 10) w = syllable(rng) + syllable(rng) + (rng.chance(0.3) ? syllable(rng) : '');
  return w.charAt(0).toUpperCase() + w.slice(1);
}

function initialsOf(forename: string): string {
  // "Jean-Pierre" -> "J.-P.", the arXiv way of abbreviating hyphenated names.
  return forename
    .split('-')
    .map((part) => {
      const plain = texAccentsToUnicode(part);
      return `${plain.charAt(0)}.`;
    })
    .join('-');
}

/** Number of distinct authors the papers draw from. */
export const AUTHOR_POOL_SIZE = 200_000;

/**
 * The author at position `index` of the pool, computed from the index alone so
 * the pool needs no memory and every paper by author #n agrees on the spelling.
 */
export function poolAuthor(index: number): PoolAuthor {
  const rng = new Rng(hash32(index, 0xa07e));
  const first = rng.chance(0.02) ? rng.pick(TEX_FORENAMES) : rng.pick(FORENAMES);
  let surname: string;
  const roll = rng.next();
  if (roll < 0.02) surname = rng.pick(TEX_SURNAMES);
  else if (roll < 0.72) surname = rng.pick(SURNAMES);
  else surname = pseudoSurname(rng);
  const keyname = rng.chance(0.03) ? `${rng.pick(PARTICLES)} ${surname}` : surname;
  const style = rng.next();
  let forenames: string;
  if (style < 0.5) forenames = first;
  else if (style < 0.65) forenames = `${first} ${String.fromCharCode(65 + rng.int(26))}.`;
  else if (style < 0.85) forenames = initialsOf(first);
  else if (style < 0.95) forenames = `${initialsOf(first)} ${String.fromCharCode(65 + rng.int(26))}.`;
  else forenames = `${first} ${rng.pick(FORENAMES)}`;
  const suffix = rng.chance(0.005) ? rng.pick(SUFFIXES_NAME) : '';
  const firstPlain = texAccentsToUnicode(first);
  const keyPlain = texAccentsToUnicode(keyname);
  return {
    forenames,
    keyname,
    suffix,
    // Kaggle's parser splits "C.-P." into "C. -P."; mimic it so importers see the real shape.
    parsedForenames: texAccentsToUnicode(forenames).replace(/\.-/g, '. -'),
    parsedKeyname: keyPlain,
    fullName: `${firstPlain} ${keyPlain}`,
  };
}

/** Affiliations occasionally written in parentheses after an author, as on arXiv. */
export const AFFILIATIONS: readonly string[] = [
  'MIT', 'CERN', 'Stanford University', 'University of Tokyo', 'ETH Zurich', 'Tsinghua University',
  'Max Planck Institute for Physics', 'IAS, Princeton', 'LUTH, CNRS / Observatoire de Paris',
  'University of Cambridge', 'Caltech', 'INFN, Sezione di Roma', 'DESY', 'Perimeter Institute',
  'KEK', 'IISc Bangalore', 'Weizmann Institute', 'Univ. Paris-Saclay', 'Fermilab', 'EPFL',
];
