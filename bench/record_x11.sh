#!/bin/bash
# usage: record_x11.sh OUT.mp4 WARMUP_S DURATION_S KEYS START_KEYS -- command...
# START_KEYS (or "none") are pressed one per second after the warm-up, before recording.
# Runs the command on a fresh Xvfb display, waits WARMUP_S, presses random KEYS (space-separated
# xdotool key names, or "none") while ffmpeg records DURATION_S seconds of the screen.
out=$1; warm=$2; dur=$3; keys=$4; start=$5; shift 6
disp=:$((RANDOM % 400 + 100))
Xvfb $disp -screen 0 640x480x24 -nolisten tcp >/dev/null 2>&1 & xpid=$!
sleep 1
export DISPLAY=$disp SDL_AUDIODRIVER=dummy
"$@" >/dev/null 2>&1 & apid=$!
sleep $warm
wid=$(xdotool search --onlyvisible --name . 2>/dev/null | tail -1)
[ -n "$wid" ] && xdotool windowactivate $wid windowmove $wid 0 0 2>/dev/null
xdotool mousemove 320 240
if [ "$start" != none ]; then for k in $start; do xdotool key $k; sleep 1; done; fi
if [ "$keys" != none ]; then
  ( arr=($keys); end=$((SECONDS + dur + 1)); while [ $SECONDS -lt $end ]; do
      k=${arr[$((RANDOM % ${#arr[@]}))]}; xdotool keydown $k; sleep 0.$((RANDOM % 6 + 2)); xdotool keyup $k; done ) & kpid=$!
fi
ffmpeg -loglevel error -y -f x11grab -framerate 15 -video_size 640x480 -i $disp -t $dur -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p "$out"
[ -n "$kpid" ] && kill $kpid 2>/dev/null
kill $apid 2>/dev/null; sleep 0.5; kill -9 $apid 2>/dev/null; kill $xpid 2>/dev/null
wait 2>/dev/null
