/* type_growth.h: heap snapshots by type name, and the growth between two.
 *
 * A snapshot keeps, per type name, the objects and bytes a census counted
 * (tables/type_census): names, not types, so that it keeps no type alive
 * and holds no Python object (a snapshot kept between two censuses is not
 * counted in the second).  Types of one name (a class made in a loop, two
 * modules' Point) are one row, as in objgraph. */
#ifndef PYRO_TYPE_GROWTH_H
#define PYRO_TYPE_GROWTH_H

#include "core/compat.h"

struct pyro_type_census;           /* tables/type_census.h: the writers need not see it */

typedef struct {
    char *name;                    /* UTF-8, owned */
    Py_ssize_t count, bytes;
} pyro_type_total;

typedef struct {
    pyro_type_total *types;        /* sorted by name, one per name */
    size_t n;
    Py_ssize_t objects, bytes;     /* in all */
    int partial;                   /* memory ran out while counting */
} pyro_heap_snapshot;

/* Name the census's types: `shortnames`, __name__ ("Point"), else
 * module.__qualname__ ("geometry.Shape.Point"; no module for builtins).
 * 0, or -1 + exception (the snapshot then empty). */
int pyro_heap_snapshot_init(pyro_heap_snapshot *s, const struct pyro_type_census *c,
                            int shortnames);
void pyro_heap_snapshot_release(pyro_heap_snapshot *s);

typedef struct {
    const char *name;              /* borrowed from the later snapshot */
    Py_ssize_t count, growth;      /* objects now, and new since the earlier snapshot */
    Py_ssize_t bytes, bytes_growth;
} pyro_type_growth;

/* The types whose objects or bytes grew from `earlier` (NULL: from
 * nothing, every type) to `later`: the most new objects first, then the
 * most new bytes, then by name.  *rows is a PyMem_Raw array the caller
 * frees (NULL when there are none).  0, or -1 + MemoryError. */
int pyro_type_growth_rows(const pyro_heap_snapshot *earlier, const pyro_heap_snapshot *later,
                          pyro_type_growth **rows, size_t *n);

#endif
