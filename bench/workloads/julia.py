"""The Julia-set example: many short calls to a numeric function (call-heavy).

    python julia.py [width]
"""
import sys

DEFAULT_SIZE = 100
QUICK_SIZE = 60
CALL_HEAVY = True
# Line mode (bench/run_lines.py): the functions line-profiled.
LINE_TARGETS = ["calc_point_val"]


def calc_point_val(x_val, y_val, thresh, max_iters, x_center, y_center):
    no_iter = 0
    val = x_val
    while True:
        val = ((x_val ** 2 + y_val ** 2) ** (1 / 2))
        if val < thresh:
            no_iter += 1
            val = val + ((x_center ** 2 + y_center ** 2) ** (1 / 2))
        else:
            break
        if no_iter >= max_iters:
            break
    return no_iter


def jset(width):
    x_start, x_stop = -1.8, 1.8
    y_start, y_stop = -1.8, 1.8
    x_step = (x_stop - x_start) / width
    y_step = (y_stop - y_start) / width
    x_vals = [x_start + i * x_step for i in range(width)]
    y_vals = [y_start + i * y_step for i in range(width)]
    threshold = 2
    max_iters = 254
    x_center, y_center = -0.62772, -0.42193
    out = []
    for y_val in y_vals:
        for x_val in x_vals:
            out.append(calc_point_val(x_val, y_val, threshold, max_iters,
                                      x_center, y_center))
    return out


def main(size=DEFAULT_SIZE):
    return sum(jset(size))


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SIZE))
