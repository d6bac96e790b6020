#!/bin/bash
# Builds the second real check set ("set B") under $1 (default /work/realcheck/setB), laid out as
# <class>/<clip>.mp4: games, screens and an animation that set A does not have, recorded once and
# scored once before any generator change it informed (docs/demo.md). Not training data, not
# shipped. Needs Debian (bookworm), the tools of make_real_check_set.sh and:
#   apt-get install kobodeluxe blobby ri-li powermanga ltris armagetronad extremetuxracer xpdf
#   apt-get download synfig-examples && dpkg -x synfig-examples_*.deb X   (X is $2)
# Recordings depend on load times and random key presses: look at every clip and record again one
# that shows a loading screen, a server browser or a blank window.
set -e
out=${1:-/work/realcheck/setB}; x=${2:-/tmp/realcheck-src}
A=$out/Animation F=$out/Flat_Content G=$out/Gaming
mkdir -p "$A" "$F" "$G"
R=$(dirname "$0")/record_x11.sh
export LIBGL_ALWAYS_SOFTWARE=1

$R $G/kobodl.mp4 4 12 "Left Right Up Down Left Right ctrl ctrl" "Return Return" -- /usr/games/kobodl
$R $G/powermanga.mp4 5 12 "Left Right Up Down space" "Return Return" -- /usr/games/powermanga --window
$R $G/blobby.mp4 5 12 "Left Right Up Left Right" "Down Down Return Return" -- /usr/games/blobby
$R $G/ri_li.mp4 5 12 "Left Right Up Down" "Return Return Return Return" -- /usr/games/ri-li
$R $G/ltris.mp4 5 12 "Left Right Down Up" "Up Return Return Return" -- /usr/games/ltris
$R $G/armagetronad.mp4 10 12 "Left Right" "Return Return Return" -- /usr/games/armagetronad
$R $G/etr.mp4 20 12 "Left Right Up Up" "Return Return Return Return Return Return" -- /usr/games/etr

# Documentation pages in Chromium (offline: Rust's and pygame's bundled HTML docs) and a PDF in xpdf.
rust=$(rustc --print sysroot 2>/dev/null)/share/doc/rust/html
pg=$(python -c "import os, pygame; print(os.path.dirname(pygame.__file__))" 2>/dev/null | tail -1)/docs/generated
browser="chromium --no-sandbox --disable-gpu --no-first-run --disable-background-networking --disable-component-update"
browser="$browser --user-data-dir=$(mktemp -d) --window-size=640,480 --window-position=0,0"
$R $F/chromium_rustdoc_scroll.mp4 5 14 "Down Down Down Down Page_Down" none -- $browser --app=file://$rust/rustdoc/advanced-features.html
$R $F/chromium_pygame_tutorial.mp4 5 14 "Down Down Down Page_Down space" none -- $browser --app=file://$pg/tut/MoveIt.html
$R $F/chromium_rustbook_pages.mp4 5 14 "Right Down Page_Down Down" none -- $browser --app=file://$rust/rustdoc/index.html
$R $F/xpdf_spec.mp4 5 14 "n n Down Down Page_Down" none -- xpdf -geometry 640x480+0+0 /usr/share/doc/libtasn1-doc/libtasn1.pdf

# A 2D vector animation: synfig's morphing star example, its 151 frames played at 24 fps.
tmp=$(mktemp -d)
synfig $x/usr/share/doc/synfig-examples/examples/star.sif -t png -o $tmp/f.png >/dev/null 2>&1
ffmpeg -loglevel error -y -framerate 24 -i $tmp/f.%04d.png -c:v libx264 -crf 20 -pix_fmt yuv420p \
  -vf "pad=ceil(iw/2)*2:ceil(ih/2)*2" $A/synfig_star.mp4
rm -r $tmp
