from setuptools import find_packages, setup


def read_version():
    scope = {}
    with open('mmbiggan/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


setup(
    name='mmbiggan',
    version=read_version(),
    description='Class-conditional GANs of the BigGAN family '
    '(BigGAN, BigGAN-Deep, SAGAN, SNGAN-projection) on mmengine',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmbiggan', 'mmbiggan.*']),
    package_data={'mmbiggan.datasets': ['*.txt']},
    python_requires='>=3.9',
    # torch is not pinned here so GPU users keep their own build; install
    # the wanted torch first (the README installs torch==2.13.0, the version
    # tested).
    install_requires=[
        'torch>=2.1',
        'mmengine>=0.10.7,<0.11',
        'mmcv-lite>=2.0.0',
        'numpy',
        'scipy',
        'pillow',
        'scikit-learn',
    ],
    extras_require={
        'tests': ['pytest', 'pytorch-pretrained-biggan==0.1.1'],
    },
    license='Apache-2.0',
)
