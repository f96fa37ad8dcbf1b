/**
 * The pages of the built-in decoy: a small, ordinary business site (a bookbinding studio),
 * hand-written HTML with one stylesheet, the kind of thing a thousand small servers host.
 * Nothing here mentions a tunnel; the 404 page is styled like the rest of the site and never
 * echoes the requested path, so the secret path answers exactly like any other unknown path.
 */

const STYLE = `*{box-sizing:border-box}
body{margin:0;font:17px/1.6 Georgia,"Times New Roman",serif;color:#2b2622;background:#faf7f2}
header,main,footer{max-width:46rem;margin:0 auto;padding:0 1.25rem}
header{display:flex;justify-content:space-between;align-items:baseline;padding-top:1.5rem;border-bottom:1px solid #e4ddd2}
header a.brand{font-size:1.35rem;color:#2b2622;text-decoration:none;letter-spacing:.02em}
nav a{margin-left:1rem;color:#7a5c3e;text-decoration:none;font-size:.95rem}
nav a:hover{text-decoration:underline}
main{padding-top:1.5rem;padding-bottom:2.5rem}
h1{font-weight:normal;font-size:2rem;margin:.5rem 0 1rem}
h2{font-weight:normal;font-size:1.3rem;margin-top:2rem}
.muted{color:#6f665c}
ul.list{padding-left:1.1rem}
footer{border-top:1px solid #e4ddd2;padding-top:1rem;padding-bottom:2rem;font-size:.85rem;color:#6f665c}
`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
<a class="brand" href="/">Halden &amp; Moss</a>
<nav><a href="/work">Work</a><a href="/journal">Journal</a><a href="/about">About</a><a href="/contact">Contact</a></nav>
</header>
<main>
${body}
</main>
<footer>&copy; 2019&ndash;2025 Halden &amp; Moss Bindery &middot; Unit 4, Tanner's Yard</footer>
</body>
</html>
`;
}

const HOME = page(
  'Halden & Moss Bindery',
  `<h1>Hand bookbinding and restoration</h1>
<p>We are a two-person bindery making blank books, portfolios and boxes by hand, and repairing
the books people cannot bear to lose: family bibles, recipe books, first editions with tired
spines.</p>
<p>Every commission starts with a conversation. Tell us what the book is for, and we will
suggest materials, a structure and a price.</p>
<h2>Current lead times</h2>
<ul class="list">
<li>Restoration and rebinding: about six weeks</li>
<li>Custom journals and albums: three to four weeks</li>
<li>Clamshell boxes: two weeks</li>
</ul>
<p class="muted">The workshop is open to visitors on the first Saturday of each month, 10:00&ndash;14:00.</p>`,
);

const ABOUT = page(
  'About &middot; Halden & Moss Bindery',
  `<h1>About the bindery</h1>
<p>Ingrid Halden trained as a conservator and spent nine years in a university library's
repair room. Tom Moss came to binding from cabinet making and still builds our presses.</p>
<p>We work with archival materials only: acid-free boards, wheat-starch paste, linen thread
and leathers tanned without chromium. Repairs are reversible wherever we can make them so.</p>
<h2>Teaching</h2>
<p>We run small weekend courses in case binding and Coptic stitching, four people at a time.
Dates are announced in the journal.</p>`,
);

const WORK = page(
  'Work &middot; Halden & Moss Bindery',
  `<h1>Recent work</h1>
<h2>A 1911 family bible</h2>
<p>Broken spine, detached boards and forty loose leaves. Resewn on the original stations,
new calf spine with the old label laid down.</p>
<h2>Wedding album, quarter goatskin</h2>
<p>Guarded pages for photographs, hand-marbled endpapers, blind-tooled title.</p>
<h2>Archive boxes for a small museum</h2>
<p>Thirty-two drop-spine boxes in book cloth, sized to each object.</p>`,
);

const JOURNAL = page(
  'Journal &middot; Halden & Moss Bindery',
  `<h1>Journal</h1>
<h2>Spring courses</h2>
<p class="muted">March</p>
<p>Two weekends of case binding in April and one of Coptic stitching in May. Materials and
tools are provided; bring an apron.</p>
<h2>On paste</h2>
<p class="muted">January</p>
<p>Why we still cook wheat-starch paste every morning instead of using PVA for repairs: it
stays reversible, it does not yellow, and it forgives a slow hand.</p>`,
);

const CONTACT = page(
  'Contact &middot; Halden & Moss Bindery',
  `<h1>Contact</h1>
<p>The easiest way to reach us is by email. Photographs of the book help us give you a
realistic estimate.</p>
<p>Unit 4, Tanner's Yard<br>Open Tuesday to Friday, 9:00&ndash;17:00</p>
<p class="muted">We do not take walk-in repairs outside opening hours.</p>`,
);

const NOT_FOUND = page(
  'Page not found &middot; Halden & Moss Bindery',
  `<h1>Page not found</h1>
<p>Sorry, we could not find that page. It may have moved when we rebuilt the site.</p>
<p><a href="/">Back to the home page</a></p>`,
);

const NOT_ALLOWED = page(
  'Method not allowed &middot; Halden & Moss Bindery',
  `<h1>Method not allowed</h1>
<p>This site only serves pages.</p>
<p><a href="/">Back to the home page</a></p>`,
);

const ROBOTS = 'User-agent: *\nAllow: /\n';

/** One file of the built-in site. */
export interface SiteFile {
  readonly contentType: string;
  readonly body: string;
}

const HTML = 'text/html; charset=utf-8';

/** The built-in site's files by URL path. */
export const BUILTIN_FILES: ReadonlyMap<string, SiteFile> = new Map([
  ['/', { contentType: HTML, body: HOME }],
  ['/index.html', { contentType: HTML, body: HOME }],
  ['/about', { contentType: HTML, body: ABOUT }],
  ['/work', { contentType: HTML, body: WORK }],
  ['/journal', { contentType: HTML, body: JOURNAL }],
  ['/contact', { contentType: HTML, body: CONTACT }],
  ['/style.css', { contentType: 'text/css; charset=utf-8', body: STYLE }],
  ['/robots.txt', { contentType: 'text/plain; charset=utf-8', body: ROBOTS }],
]);

/** The 404 page of the built-in site. */
export const BUILTIN_NOT_FOUND: SiteFile = { contentType: HTML, body: NOT_FOUND };

/** The 405 page of the built-in site. */
export const BUILTIN_NOT_ALLOWED: SiteFile = { contentType: HTML, body: NOT_ALLOWED };
