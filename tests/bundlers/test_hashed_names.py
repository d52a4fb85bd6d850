"""The default name test, held to tables of real names.

HASHED: names from real builds (the fixtures here: Vite 8 / Rolldown, webpack 5;
and by hand with Vite 7 / Rollup, esbuild 0.25 and the vanilla and react
templates of ``npm create vite@latest``), Rolldown's own published
dist, and the tools' documentation. NOT_HASHED: real file names from npm
packages, favicon generators, font kits and Django apps, including every
look-alike the rules were written against. A false positive is a year-long
cache of a file that changes, so that table must pass completely; a miss only
costs a revalidation (and a bundler manifest catches most of them, see
test_manifests.py).
"""

from __future__ import annotations

import pytest

from staticserve.hashed_names import is_hashed_name, is_hashed_url

HASHED = {
    "Vite 8 (Rolldown), tests/bundlers/vite-app": [
        "assets/index-BvmkIFtm.js",
        "assets/index-7qe2iyga.css",
        "assets/logo-DYM68Rp9.png",
        "assets/pattern-6sQ43Z2S.svg",
        "assets/index-BvmkIFtm.js.map",
    ],
    "npm create vite@latest (create-vite 9.3.0, Vite 8), vanilla and react templates": [
        "assets/hero-CLDdwZDr.png",
        "assets/index-CAoPt-vL.js",
        "assets/index-CsUDhMuy.css",
        "assets/vite-BF8QNONU.svg",
        "assets/index-DykytF2W.css",
        "assets/index-mUEkpVIN.js",
        "assets/react-CHdo91hT.svg",
    ],
    "Vite 7 (Rollup 4), same project": [
        "assets/index-bIl-BimJ.js",
        "assets/index-XudPy9mT.css",
        "assets/chart-CBPBgqLS.js",
        "assets/index-4krrwcyx.css",
        "assets/chart-DLrhC-Aj.js",
    ],
    "Rolldown's published dist (node_modules/rolldown/dist/shared)": [
        "binding-XhiChhlU.mjs",
        "bindingify-input-options-CogTCE3m.mjs",
        "create-bundler-option-B328MdO3.mjs",
        "define-config-BQBrxnNZ.mjs",
        "dist-C-GMLZnX.mjs",
        "error-z4CTM_u3.mjs",
        "filter-DvHMSB82.mjs",
        "load-config-ZYHIHAhQ.mjs",
        "logs-BphcrOCD.mjs",
        "misc-Dz208wMN.mjs",
        "parse-IqiSm1wk.mjs",
        "prompt-C8pEKJl9.mjs",
        "rolldown-runtime-BVN1G_yT.mjs",
        "validator-DzeDk-lR.mjs",
        "watch-3TivlFA1.mjs",
    ],
    "esbuild 0.25 --splitting, [name]-[hash]": [
        "chart-P3XJKF6T.js",
        "chunk-L3RX5ZXO.js",
        "chunk-MJGKJUTZ.js",
        "logo-3YPJW27S.png",
        "main-3PGWGQWL.css",
        "main-LHGB2KC5.js",
        "mod2-AQ72ORPC.js",
        "mod5-77LM5DH7.js",
        "pattern-RQRLW5BZ.svg",
    ],
    "webpack 5, tests/bundlers/webpack-app": [
        "main.111bf90bdf23d77869c9.js",
        "runtime.c3ac7d4e7c43dbc4a227.js",
        "main.3acb9e15.css",
        "chart.37593ba1.js",
        "4fb4b181516f707b1659.png",
    ],
    "webpack docs (caching guide), Create React App, Next.js, Parcel, Workbox": [
        "main.7e2c49a622975ebd9b7e.js",
        "vendors.a42c3ca0d742766d7a28.js",
        "static/js/main.8c6ac6d4.js",
        "static/js/787.2d6a3b9b.chunk.js",
        "static/css/main.073c9b0a.css",
        "static/css/main.073c9b0a.css.map",
        "static/media/logo.6ce24c58023cc2f8fd88fe9d219db6c6.svg",
        "_next/static/chunks/framework-2c79e2a64abdb08b.js",
        "_next/static/css/a1b2c3d4e5f60718.css",
        "index.975ef6c8.js",
        "workbox-5b385ed2.js",
    ],
    "Django ManifestStaticFilesStorage / staticserve build": [
        "css/styles.55e7cbb9ba48.css",
        "admin/js/core.3f2a1b9c8d7e.js",
        "fonts/inter.0b2e4c6d8f1a.woff2",
    ],
}

NOT_HASHED = [
    # the list
    "jquery-3.7.1.min.js",
    "logo-dark.svg",
    "app-settings.js",
    "font-awesome.css",
    "chunk-vendors.js",
    # 8 characters after "-" that are words, not hashes
    "password-strength.js",
    "css-rrggbbaa.js",
    "theme-deadbeef.css",
    "Home-Carousel.js",
    "grid-DataGrid.js",
    "nav-MainMenu.js",
    "btn-Primary1.svg",
    "app-FALLBACK.js",
    "layout-2columns.css",
    "bar-baz-v2.js",
    "ui-kit-v2.js",
    "img-IMG_1234.jpg",
    "vacation-DSC01234.jpg",
    "holiday-P1010123.jpg",
    "styles-compiled.css",
    "my-app-ui-kit.js",
    # numbers: dates, versions, dimensions are not hashes
    "report-20240101.css",
    "backup.20231231.js",
    "build.12345678.js",
    "bg-1280x720.jpg",
    "screenshot-1280x800.png",
    "android-chrome-192x192.png",
    "apple-touch-icon-180x180.png",
    "favicon-32x32.png",
    "mstile-150x150.png",
    "roboto-v30-latin-regular.woff2",
    "inter-latin-400-normal.woff2",
    "fa-solid-900.woff2",
    "polyfills-es2015.js",
    "runtime-es2017.js",
    "app.v2.js",
    # everyday library and site files
    "bootstrap.bundle.min.js",
    "bootstrap-grid.min.css",
    "fontawesome-webfont.woff2",
    "swiper-bundle.min.js",
    "select2.full.min.js",
    "xregexp.min.js",
    "htmx.min.js",
    "vue.runtime.esm-bundler.js",
    "react-dom.production.min.js",
    "es6-promise.auto.min.js",
    "service-worker.js",
    "firebase-messaging-sw.js",
    "manifest.json",
    "asset-manifest.json",
    "site.webmanifest",
    "robots.txt",
    "favicon.ico",
    "admin/js/vendor/jquery/jquery.min.js",
    "admin/css/responsive_rtl.css",
    # HTML entry points are never hashed, whatever their name looks like
    "index.html",
    "about-AbCd1234.html",
    "page.3f2a1b9c8d7e.html",
    # not web assets: their names are full of acronyms and hyphens
    "AIX-IBMClang.cmake",
    "Linux-TinyCC-C.cmake",
    "tegra-hda-HiFi.conf",
]

_CASES = [(tool, name) for tool, names in HASHED.items() for name in names]


@pytest.mark.parametrize(("tool", "name"), _CASES)
def test_default_hash_format_is_recognised(tool: str, name: str) -> None:
    assert is_hashed_name(name), f"{name} ({tool})"


@pytest.mark.parametrize("name", NOT_HASHED)
def test_name_without_a_hash_is_not_taken_for_hashed(name: str) -> None:
    assert not is_hashed_name(name)


@pytest.mark.parametrize(
    "name",
    [
        # Real hashes that spell word shapes: missed on purpose (the price of
        # no false positives); bundler manifests name them (test_manifests.py).
        "assets/chart-BdheiUng.js",  # Vite 8 fixture: "Bdhei" + "Ung"
        "mod1-USYTILZJ.js",  # esbuild: 8 capitals, pronounceable
        "mod6-YVKAIVZS.js",
    ],
)
def test_hash_that_spells_words_is_left_to_the_manifest(name: str) -> None:
    assert not is_hashed_name(name)


def test_only_the_last_segment_counts() -> None:
    assert not is_hashed_name("assets-BvmkIFtm/app.js")
    assert is_hashed_name("app-settings/index-BvmkIFtm.js")


def test_url_form_takes_the_url() -> None:
    assert is_hashed_url("/srv/static/whatever", "assets/index-BvmkIFtm.js")
    assert not is_hashed_url("/srv/static/index-BvmkIFtm.js", "app.js")
