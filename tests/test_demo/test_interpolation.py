"""mmbiggan.apis.interpolation: lerp/slerp, walk layout, endpoint walks in
noise and class space, and the frames they generate."""
import math

import pytest
import torch

from mmbiggan.apis import (class_inputs, draw_inputs, frame_positions,
                           get_sampling_generator, init_model,
                           interpolate_path, iter_walk_frames, lerp,
                           plan_walk, slerp)


def angle(a, b):
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.acos(cos.clamp(-1, 1))


def test_lerp_endpoints_and_midpoint():
    a, b = torch.randn(3, 5), torch.randn(3, 5)
    assert torch.equal(lerp(a, b, 0.0), a)
    assert torch.equal(lerp(a, b, 1.0), b)
    weights = torch.tensor([0.0, 0.5, 1.0])
    out = lerp(a, b, weights)
    assert torch.equal(out[0], a[0]) and torch.equal(out[2], b[2])
    torch.testing.assert_close(out[1], (a[1] + b[1]) / 2)


def test_slerp_orthogonal_unit_vectors_follow_the_circle():
    a = torch.tensor([[1.0, 0.0, 0.0]])
    b = torch.tensor([[0.0, 1.0, 0.0]])
    for t in (0.0, 0.25, 0.5, 1.0):
        expected = torch.tensor(
            [[math.cos(t * math.pi / 2),
              math.sin(t * math.pi / 2), 0.0]])
        torch.testing.assert_close(slerp(a, b, t), expected)


def test_slerp_keeps_norm_linear_and_angular_speed_constant():
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(1, 128, generator=gen) * 1.3
    b = torch.randn(1, 128, generator=gen) * 0.8
    weights = torch.linspace(0, 1, 9)
    path = slerp(a.expand(9, -1), b.expand(9, -1), weights)
    torch.testing.assert_close(path[0], a[0])
    torch.testing.assert_close(path[-1], b[0])
    norms = path.norm(dim=1)
    torch.testing.assert_close(
        norms, torch.lerp(a.norm(), b.norm(), weights), rtol=1e-5,
        atol=1e-5)
    steps = angle(path[:-1], path[1:])
    torch.testing.assert_close(steps, steps.mean().expand(8), rtol=1e-4,
                               atol=1e-6)
    torch.testing.assert_close(steps.sum(), angle(a, b)[0], rtol=1e-4,
                               atol=1e-6)
    # Unlike lerp, the midpoint keeps the noise norm of Gaussian noise.
    assert lerp(a, b, 0.5).norm() < 0.8 * path[4].norm()


def test_slerp_degenerate_pairs_fall_back_to_lerp():
    a = torch.randn(4, 16)
    b = torch.stack([
        a[0] * 2.0,  # parallel
        -a[1],  # opposite
        torch.zeros(16),  # zero vector
        a[3] + 1e-9,  # nearly identical
    ])
    out = slerp(a, b, 0.3)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, lerp(a, b, 0.3))
    assert out.dtype == torch.float32


def test_frame_positions_layout():
    segment, weight = frame_positions(3, 4)
    assert segment.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert weight.tolist() == [0, .25, .5, .75, 0, .25, .5, .75, 1]
    with pytest.raises(ValueError, match='at least 2 endpoints'):
        frame_positions(1, 4)
    with pytest.raises(ValueError, match='at least 1 step'):
        frame_positions(2, 0)


@pytest.mark.parametrize('mode', ['lerp', 'slerp'])
def test_interpolate_path_passes_every_endpoint(mode):
    ends = torch.randn(4, 10)
    path = interpolate_path(ends, 3, mode)
    assert path.shape == (10, 10)
    torch.testing.assert_close(path[::3], ends, rtol=0, atol=1e-6)
    assert not torch.equal(path[1], path[0])


@pytest.fixture(scope='module')
def shared_generator(shared_model):
    model = init_model(shared_model.config, shared_model.checkpoint, 'cpu')
    return get_sampling_generator(model, 'ema')


def test_class_inputs_are_embeddings_or_one_hot(shared_generator,
                                                unconditional_model):
    labels = torch.tensor([2, 7])
    inputs = class_inputs(shared_generator, labels)
    assert inputs.use_outside_embedding
    torch.testing.assert_close(inputs.values,
                               shared_generator.shared_embedding(labels))
    model = init_model(unconditional_model.config, None, 'cpu')
    with pytest.raises(ValueError, match='unconditional'):
        class_inputs(model.generator, labels)


def test_plan_walk_fix_noise_walks_classes_only(shared_generator):
    walk = plan_walk(shared_generator, 3, 4, labels=[1, 5, 8],
                     fix_noise=True, truncation=0.7, seed=3)
    assert walk.noise.shape == (9, shared_generator.noise_size)
    assert (walk.noise == walk.noise[0]).all()
    embed = shared_generator.shared_embedding(torch.tensor([1, 5, 8]))
    torch.testing.assert_close(walk.classes[::4], embed)
    assert walk.endpoint_labels.tolist() == [1, 5, 8]
    # The endpoint noise is the truncated noise of the seed.
    noise, _ = draw_inputs(shared_generator, 3, [1, 5, 8], 0.7, seed=3)
    assert torch.equal(walk.noise[0], noise[0])
    assert walk.noise.abs().max() <= 2 * 0.7


def test_plan_walk_fix_class_walks_noise_only(shared_generator):
    walk = plan_walk(shared_generator, 2, 5, labels=[6], fix_class=True,
                     interp_mode='slerp', seed=0)
    assert (walk.classes == walk.classes[0]).all()
    assert walk.endpoint_labels.tolist() == [6, 6]
    assert len({tuple(row.tolist()) for row in walk.noise}) == 6


def test_plan_walk_rejects_impossible_walks(shared_generator,
                                            unconditional_model):
    with pytest.raises(ValueError, match='exclude each other'):
        plan_walk(shared_generator, 2, 3, fix_noise=True, fix_class=True)
    with pytest.raises(ValueError, match='3 endpoint labels for 2'):
        plan_walk(shared_generator, 2, 3, labels=[1, 2, 3])
    with pytest.raises(ValueError, match='out of range'):
        plan_walk(shared_generator, 2, 3, labels=[1, 10])
    with pytest.raises(ValueError, match='mode'):
        plan_walk(shared_generator, 2, 3, interp_mode='cubic')
    generator = init_model(unconditional_model.config, None,
                           'cpu').generator
    with pytest.raises(ValueError, match='unconditional'):
        plan_walk(generator, 2, 3, fix_noise=True)
    walk = plan_walk(generator, 2, 3, seed=0)
    assert walk.classes is None and walk.noise.shape == (4, 20)


@pytest.mark.parametrize('training', [False, True])
def test_walk_frames_are_the_generator_on_the_recorded_inputs(
        shared_generator, training):
    walk = plan_walk(shared_generator, 2, 3, labels=[0, 9], seed=5,
                     truncation=0.5)
    shared_generator.train(training)
    calls = []
    handle = shared_generator.register_forward_hook(
        lambda module, args, output: calls.append(output.shape[0]))
    try:
        frames = torch.cat([
            batch.images for batch in iter_walk_frames(
                shared_generator, walk, 0.5, batch_size=3)
        ])
        handle.remove()
        assert calls == [3, 1]
        assert shared_generator.training == training
        shared_generator.eval()
        with torch.no_grad():
            direct = shared_generator(
                walk.noise, walk.classes, truncation=0.5,
                use_outside_embedding=True)
    finally:
        handle.remove()
        shared_generator.eval()
    torch.testing.assert_close(frames, direct, rtol=0, atol=1e-5)
    # The endpoint frames are ordinary samples of the endpoint classes.
    with torch.no_grad():
        ends = shared_generator(walk.endpoint_noise, walk.endpoint_labels,
                                truncation=0.5)
    torch.testing.assert_close(frames[[0, -1]], ends, rtol=0, atol=1e-5)
