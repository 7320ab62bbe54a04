#!/usr/bin/env bash
# Train with one process per GPU (NCCL), or on a machine without GPUs with
# GPUS CPU processes (gloo).
#     bash tools/dist_train.sh CONFIG GPUS [tools/train.py arguments]
# Several nodes: NNODES, NODE_RANK, MASTER_ADDR and PORT as for torchrun.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: bash $0 CONFIG GPUS [tools/train.py arguments]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

if ! [[ "$GPUS" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: GPUS must be a positive number of processes, got '$GPUS'." >&2
    exit 2
fi
VISIBLE=$(python -c "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)")
if [ "$VISIBLE" -gt 0 ] && [ "$GPUS" -gt "$VISIBLE" ]; then
    echo "error: $GPUS GPUs were asked for but only $VISIBLE are visible; use at most $VISIBLE." >&2
    exit 2
fi
if [ "$VISIBLE" -eq 0 ]; then
    echo "No GPU visible: starting $GPUS CPU processes (gloo)." >&2
fi

PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
python -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --master_port="$PORT" \
    --nproc_per_node="$GPUS" \
    "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
