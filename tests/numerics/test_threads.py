"""``attnflow.numerics.single_thread`` (numerics/_threads.py): the numba thread count is 1 inside and
restored afterwards.
"""

from attnflow.numerics import single_thread


def test_single_thread_restores_the_thread_count():
    import numba

    before = numba.get_num_threads()
    with single_thread():
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before
